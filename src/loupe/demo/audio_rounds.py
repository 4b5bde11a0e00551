"""The audio part of ``loupe demo``: what the glasses hear, post-edited by a SIMULATED crowd.

Every request to the glasses is spoken. Each round, a few of the demo's utterances
(:mod:`loupe.demo.utterances`) are read aloud (:func:`loupe.demo.speech.speak`: espeak-ng
when installed, else a generated signal), and the device's speech recogniser — SIMULATED,
with a documented word error model (:class:`~loupe.demo.speech.SimulatedRecogniser`) —
writes a transcript of each. Recording and transcript are imported into a post-editing
project, *What the glasses hear*, through the real import path with media
(:func:`loupe.services.projects.imports.import_records` with a
:class:`~loupe.services.projects.media.MediaIngest`): the audio's tags are stripped and the
original sealed, the transcript passes the text gate (names and numbers redacted).

A voice is biometric data: the recording is served only to people holding a voice
clearance for the project. Half of the SIMULATED contributors of :mod:`loupe.demo.crowd`
hold one; the others work from the transcript alone. Each post-edits the transcript
handed to them through ``next task`` and ``submit`` (:class:`PostEditor`: whether they
could play the recording is read from the task the server gave them, never assumed), is
paid per item and per audio second, and the quality engine fuses the post-edits word by
word, weighting each worker by skill (:mod:`loupe.aggregation.transcripts`). The round
reports the requests, their audio seconds, the recogniser's word error rate and the fused
transcript's against the truth (as the text gate would store it), and what was withheld.
Word error rates are counted as :func:`~loupe.aggregation.transcripts.word_error_rate`
counts them: lower-cased, without punctuation or bracketed marks (the gate's ``[PERSON]``
placeholders among them).

Without the ``audio`` extra (soundfile, mutagen) the spoken requests are skipped and the
round says so in one line.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from loupe.demo.media_requests import MediaRequests, MediaRound
from loupe.demo.speech import SimulatedRecogniser, Speech, WordErrors, corrupt
from loupe.services.access import Actor
from loupe.services.payments.earnings import create_rate_card
from loupe.services.projects import items

if TYPE_CHECKING:
    from loupe.services.labelling.tasks import Task

__all__ = [
    "AUDIO_PROJECT",
    "AudioRequests",
    "AudioRound",
    "PostEditor",
    "align",
    "audio_unavailable",
]

AUDIO_PROJECT = "What the glasses hear"
GUIDELINES = """SIMULATION — a demo project. Correct the transcript the glasses' speech
recogniser wrote so that it says exactly what the wearer said. If you hold a voice
clearance for this project, play the recording; otherwise work from the transcript alone.
Keep the placeholders the privacy gate put in ([PERSON], [PHONE]...): never type a name or
a number you hear."""
RATE_CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [{"amount_minor": 2, "per_audio_second_minor": 1}],
}
OVERLAP = 3
TRANSCRIPT = "transcript"  # the item field holding the device's transcript
AUDIO = "audio"  # the item field naming the recording
NEED_EXTRA = "install loupe[audio] (soundfile, mutagen) to hear spoken requests"

Op = Literal["sub", "del", "ins"]
# A SIMULATED post-editor fixes each recogniser error with this probability times their
# skill: with the recording one hears what was said; from the transcript alone only what
# the context gives away (a stray "uh" is easy, a dropped word is not).
FIX_HEARD: dict[Op, float] = {"sub": 0.95, "del": 0.9, "ins": 0.95}
FIX_READ: dict[Op, float] = {"sub": 0.35, "del": 0.1, "ins": 0.7}
# Their own slips: this error model times (1 - skill) — 1.5% at skill 0.95, 18% at 0.4.
SLIPS = WordErrors(substitution=0.15, deletion=0.1, insertion=0.05)


def align(reference: list[str], hypothesis: list[str]) -> list[tuple[str | None, str | None]]:
    """A minimum edit alignment of two word lists (compared lower-cased, without
    punctuation, as the word error rate counts them): ``(ref, hyp)`` pairs, ``None`` on
    the side of a deletion (``hyp``) or an insertion (``ref``).

    >>> align(["call", "Maya", "now"], ["call", "my", "now", "uh"])
    [('call', 'call'), ('Maya', 'my'), ('now', 'now'), (None, 'uh')]
    """
    from loupe.aggregation.transcripts import transcript_words

    def key(word: str) -> str:
        words = transcript_words(word)
        return words[0] if words else word

    a, b = [key(w) for w in reference], [key(w) for w in hypothesis]
    rows, cols = len(a) + 1, len(b) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]), cost[i - 1][j] + 1, cost[i][j - 1] + 1
            )
    pairs: list[tuple[str | None, str | None]] = []
    i, j = len(a), len(b)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            pairs.append((reference[i - 1], hypothesis[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((reference[i - 1], None))
            i -= 1
        else:
            pairs.append((None, hypothesis[j - 1]))
            j -= 1
    return pairs[::-1]


@dataclass(frozen=True)
class PostEditor:
    """A SIMULATED contributor post-editing a device transcript — not a person.

    Each recogniser error (an aligned substitution, deletion or insertion against the
    truth) is fixed with probability ``FIX_HEARD[kind] * skill`` when the server let
    them play the recording (``hears``), else ``FIX_READ[kind] * skill``; then their own
    slips are added with :data:`SLIPS` scaled by ``1 - skill``
    (:func:`loupe.demo.speech.corrupt`).

    >>> import random
    >>> said, heard = "call Maya now", "call my uh now"
    >>> PostEditor(1.0, hears=True).post_edit(heard, said, language="en", rng=random.Random(0))
    'call Maya now'
    >>> PostEditor(1.0, hears=False).post_edit(heard, said, language="en", rng=random.Random(0))
    'call my uh now'
    """

    skill: float
    hears: bool

    def post_edit(self, transcript: str, truth: str, *, language: str, rng: random.Random) -> str:
        fix = FIX_HEARD if self.hears else FIX_READ
        words: list[str] = []
        for said, heard in align(truth.split(), transcript.split()):
            if said is not None and heard is not None:
                same = said == heard
                words.append(said if same or rng.random() < fix["sub"] * self.skill else heard)
            elif said is not None:  # the recogniser dropped it
                if rng.random() < fix["del"] * self.skill:
                    words.append(said)
            elif heard is not None and rng.random() >= fix["ins"] * self.skill:
                words.append(heard)  # an inserted word left in
        slips = SLIPS.scaled(max(0.0, 1.0 - self.skill))
        return " ".join(corrupt(words, slips, language=language, rng=rng)) or transcript


@dataclass(frozen=True)
class AudioRound(MediaRound):
    """One round's spoken requests: what arrived, how well the recogniser and the crowd did."""

    seconds: float = 0.0  # audio length of the requests received
    engines: str = ""  # who spoke them: "espeak-ng" or "signal" (generated)
    device_wer: float | None = None  # the SIMULATED recogniser vs the truth, served items
    fused_wer: float | None = None  # the fused post-edits vs the truth
    fused: int = 0  # items with a fused transcript
    words: int = 0  # true words of the served items (the device WER's denominator)
    fused_words: int = 0  # true words of the items with a fused transcript
    post_edits: int = 0  # post-edits the SIMULATED crowd submitted
    heard: int = 0  # of which by people the server let play the recording

    def cell(self) -> str:
        """The round table's column: requests, and device -> fused WER."""
        if self.skipped:
            return "–"
        if self.device_wer is None or self.fused_wer is None:
            return str(self.received)
        return f"{self.received}, WER {self.device_wer:.0%}→{self.fused_wer:.0%}"

    def line(self) -> str:
        """The round's spoken requests in one line (for the round table)."""
        if self.skipped:
            return f"audio: skipped, {self.skipped}"
        held = self.held()
        sent = (
            f"audio: {self.received} spoken request(s), {self.seconds:.1f} s read by "
            f"{_voices(self.engines)}, {held}"
        )
        if self.device_wer is None:
            return f"{sent}; nothing for people to post-edit"
        fused = "–" if self.fused_wer is None else f"{self.fused_wer:.1%}"
        return (
            f"{sent}; SIMULATED recogniser WER {self.device_wer:.1%} → fused {fused} vs truth "
            f"after {self.post_edits} post-edits by the SIMULATED crowd ({self.heard} heard the "
            f"recording, {self.post_edits - self.heard} had the transcript only)"
        )


def _hears(task: Task) -> bool:
    """Whether the server let the person play the recording: its payload decides, per
    person (a url only for people with a voice clearance)."""
    return any(m.get("url") for m in task.media if m.get("kind") == "audio")


def _voices(engines: str) -> str:
    """Who read the requests, in words ("signal": no espeak-ng, a generated stand-in)."""
    words = {"signal": "generated signals (espeak-ng is not installed)"}
    return ", ".join(words.get(e, e) for e in engines.split(", ") if e) or "–"


def audio_unavailable() -> str | None:
    """Why this installation cannot take spoken requests (one line), or ``None``."""
    try:
        import mutagen  # noqa: F401
        import soundfile  # noqa: F401
    except (ImportError, OSError):  # OSError: soundfile without libsndfile
        return NEED_EXTRA
    return None


def _wer(references: list[str], hypotheses: list[str]) -> float | None:
    from loupe.aggregation.transcripts import word_error_rate

    return word_error_rate(references, hypotheses) if references else None


@dataclass(frozen=True)
class _Spoken:
    truth: str  # what was said, as the text gate would store it
    language: str


@dataclass
class AudioRequests(MediaRequests):
    """The spoken requests of the demo's rounds (see the module docstring); started by
    :meth:`~loupe.demo.media_requests.MediaRequests.start`."""

    recogniser: SimulatedRecogniser = field(default_factory=SimulatedRecogniser)
    truth: dict[str, _Spoken] = field(default_factory=dict)  # by stored external id
    rounds: list[AudioRound] = field(default_factory=list)

    @staticmethod
    def unavailable() -> str | None:
        return audio_unavailable()

    def set_up(self, session: Any, *, people: list[Actor]) -> int:
        """The post-editing project: the SIMULATED crowd and ``people`` (the demo's own
        users) annotate, the demo's manager manages it, a rate card pays per item and audio
        second; the manager, ``people`` and every other SIMULATED contributor hold a voice
        clearance for it."""
        from loupe.services.people.clearances import grant_clearance

        system = Actor.system()
        config = {
            "task": {"type": "free_text", "mode": "post_edit", "source_field": TRANSCRIPT},
            "text_field": TRANSCRIPT,
            "media": [AUDIO],
            "quality": {"method": "mv"},
        }
        annotators = self.create_project(
            session, name=AUDIO_PROJECT, config=config, overlap=OVERLAP, guidelines=GUIDELINES,
            description="SIMULATION: loupe demo, spoken requests", people=people,
        )  # fmt: skip
        cleared = [self.manager] + [
            actor
            for index, actor in enumerate(annotators)
            if index % 2 == 0 or index >= len(self.crowd)
        ]
        for actor in cleared:
            assert actor.user_id is not None
            grant_clearance(session, system, user_id=actor.user_id, project_id=self.project_id,
                            sensitivity="voice")  # fmt: skip
        create_rate_card(session, self.manager, self.project_id, RATE_CARD)
        return self.project_id

    def _utterances(self, number: int, count: int, first: int) -> list[dict[str, Any]]:
        """``count`` requests, the intents in turn from the ``first``-th; a request out of
        scope is one for a skill the glasses lack ("set a timer")."""
        from loupe.demo.utterances import INTENTS, OUT_OF_SCOPE, utterance

        rng = random.Random(self.seed * 104_729 + number)
        picked = [INTENTS[(first + i) % len(INTENTS)] for i in range(count)]
        return [utterance(intent, rng, novel=intent == OUT_OF_SCOPE) for intent in picked]

    def send(
        self, number: int, *, count: int | None = None, first: int | None = None
    ) -> AudioRound:
        """Speak this round's requests, transcribe them (SIMULATED) and import both through
        the real import path; what arrived."""
        from loupe.demo.speech import speak
        from loupe.formats import parse_item

        n = self.per_round if count is None else count
        start = (number - 1) * self.per_round if first is None else first
        said = self._utterances(number, n, start)
        device = random.Random(self.seed * 15_485_863 + number)  # the recogniser's errors
        files: dict[str, io.BytesIO] = {}
        records, ids, spoken = [], [], []
        for index, row in enumerate(said):
            row_id = f"aud-r{number}-{index:03d}"
            speech: Speech = speak(row["text"], language=row["language"])
            heard = self.recogniser.transcribe(row["text"], language=row["language"], rng=device)
            files[f"{row_id}.wav"] = io.BytesIO(speech.wav)
            ids.append(row_id)
            spoken.append(speech)
            records.append(
                parse_item(
                    {"id": row_id, TRANSCRIPT: heard, "language": row["language"],
                     AUDIO: f"{row_id}.wav"},
                    where=f"request {row_id}", text_field=TRANSCRIPT, media_fields=(AUDIO,),
                )
            )  # fmt: skip
        result, held = self.import_files(files, records)
        # The truth as the gate stores text: what a perfect post-edit would read.
        gated = self.gate.check([{TRANSCRIPT: row["text"]} for row in said], policy="placeholder")
        stored = self.gate.external_ids(ids)
        for row_id, row, check in zip(ids, said, gated, strict=True):
            self.truth[stored[row_id]] = _Spoken(str(check.data[TRANSCRIPT]), row["language"])
        why = "; ".join(f"{k} {r}" for r, k in sorted(held.items()))
        return AudioRound(
            number, received=result.received, seconds=sum(s.seconds for s in spoken),
            engines=", ".join(sorted({s.engine for s in spoken})), withheld=result.withheld,
            withheld_why=why,
        )  # fmt: skip

    def crowd_post_edits(self, number: int) -> tuple[int, int]:
        """Every SIMULATED contributor post-edits the transcripts routed to them until none
        is left; the post-edits submitted, and how many by people who could play the audio."""
        rng = random.Random(self.seed * 7_907 + number)

        def post_edit(k: int, task: Task) -> str:
            contributor, _ = self.crowd[k]
            spoken = self.truth[task.external_id]
            editor = PostEditor(
                contributor.accuracy_for(task.language, "general"), hears=_hears(task)
            )
            return editor.post_edit(
                str(task.data.get(TRANSCRIPT, "")), spoken.truth,
                language=spoken.language, rng=rng,
            )  # fmt: skip

        done = self.crowd_submits(rng, post_edit)
        return len(done), sum(_hears(task) for _, task, _ in done)

    def score(self, sent: AudioRound, edits: int, heard: int) -> AudioRound:
        """The round's device and fused transcripts against the truth."""
        ids = [f"aud-r{sent.round}-{i:03d}" for i in range(sent.received)]
        stored = set(self.gate.external_ids(ids).values())
        with self.db.transaction(readonly=True) as session:
            rows = items.answered_items(session, self.project_id, stored)
            cost = self.round_cost(session, self.rounds)
        truth, device, fused_truth, fused = [], [], [], []
        for external_id, data, withheld, answer in rows:
            if withheld or external_id not in self.truth:
                continue
            reference = self.truth[external_id].truth
            truth.append(reference)
            device.append(str((data or {}).get(TRANSCRIPT, "")))
            if isinstance(answer, str):
                fused_truth.append(reference)
                fused.append(answer)
        done = replace(
            sent, device_wer=_wer(truth, device), fused_wer=_wer(fused_truth, fused),
            fused=len(fused), words=_words(truth), fused_words=_words(fused_truth),
            post_edits=edits, heard=heard, cost_minor=cost,
        )  # fmt: skip
        self.rounds.append(done)
        return done

    def run_round(self, number: int) -> AudioRound:
        """Speak and send this round's requests, let the crowd post-edit, score the fusion."""
        sent = self.send(number)
        edits, heard = self.crowd_post_edits(number)
        return self.score(sent, edits, heard)

    def summary(self, *, queued: int = 0) -> str:
        """All rounds' spoken requests in one line (the terminal and the HTML report)."""
        rounds = self.rounds
        seconds = sum(r.seconds for r in rounds)
        engines = ", ".join(sorted({e for r in rounds for e in r.engines.split(", ") if e}))
        sent = (
            f"{AUDIO_PROJECT}: {sum(r.received for r in rounds)} spoken request(s), "
            f"{seconds:.1f} s of audio read by {_voices(engines)}, transcribed by a SIMULATED "
            f"recogniser; {sum(r.withheld for r in rounds)} withheld"
        )
        device = _mean_wer(rounds, "device_wer")
        fused = _mean_wer(rounds, "fused_wer")
        edits, heard = sum(r.post_edits for r in rounds), sum(r.heard for r in rounds)
        money = sum(r.cost_minor for r in rounds) / 100
        crowd = (
            f"the SIMULATED crowd post-edited them {edits} times ({heard} with the recording, "
            f"{edits - heard} from the transcript only) for €{money:,.2f}: WER "
            f"{device:.1%} (recogniser) → {fused:.1%} (fused) vs truth"
            if device is not None and fused is not None
            else "nothing was served for the SIMULATED crowd to post-edit"
        )
        return f"{sent}; {crowd}; {queued} spoken request(s) wait for people"


def _words(texts: list[str]) -> int:
    from loupe.aggregation.transcripts import transcript_words

    return sum(len(transcript_words(text)) for text in texts)


def _mean_wer(rounds: list[AudioRound], name: str) -> float | None:
    """The corpus WER over all rounds: each round's errors (its WER times its true
    words) over all true words."""
    scored = [(getattr(r, name), r.fused_words if name == "fused_wer" else r.words) for r in rounds]
    total = sum(n for wer, n in scored if wer is not None)
    if not total:
        return None
    return float(sum(wer * n for wer, n in scored if wer is not None)) / total
