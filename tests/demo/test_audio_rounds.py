"""The demo's spoken requests end to end: speech through the real import path with media,
post-edited by the SIMULATED crowd (with and without a voice clearance), fused and scored."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from loupe.aggregation.transcripts import word_error_rate
from loupe.cli import app
from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, Label, Project
from loupe.demo import audio_rounds
from loupe.demo.audio_rounds import (
    AUDIO_PROJECT,
    AudioRequests,
    AudioRound,
    PostEditor,
    align,
)
from loupe.demo.crowd import CROWD, Contributor
from loupe.demo.speech import SimulatedRecogniser
from loupe.demo.utterances import generate
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate, gate_for
from loupe.services.compliance.vault import init_master_key
from loupe.services.payments.ledger_keys import init_keys, ledger_config
from loupe.services.people import users
from loupe.settings import Settings
from loupe.storage import blob_store_for, served_key


def _audio_import() -> str | None:
    """Why audio cannot be imported here (the extra or the ingest is missing), or None."""
    if audio_rounds.audio_unavailable() is not None:
        return "needs the audio extra (soundfile, mutagen)"
    from loupe.services.projects import media

    if not hasattr(media, "audio_module"):
        return "the audio import (services.media) is not available yet"
    return None


needs_audio = pytest.mark.skipif(_audio_import() is not None, reason=str(_audio_import()))


@dataclass
class Demo:
    db: Database
    settings: Settings
    gate: PrivacyGate
    manager: Actor
    crowd: list[tuple[Contributor, Actor]]

    def start(self, per_round: int = 3) -> tuple[AudioRequests | None, str | None]:
        return AudioRequests.start(
            self.db, self.settings, self.gate, ledger_config(self.settings),
            manager=self.manager, crowd=self.crowd, seed=7, per_round=per_round,
        )  # fmt: skip


@pytest.fixture
def demo(db: Database, settings: Settings) -> Iterator[Demo]:
    key_dir = settings.resolved_key_dir()
    init_keys(key_dir, origin=settings.ledger_origin)
    init_master_key(key_dir)
    with db.transaction() as session:
        system = Actor.system()
        made = users.create_user(session, system, username="demo-manager", role="manager")
        manager = Actor(made.id, made.username, made.role)
        crowd = []
        for contributor in CROWD[:4] + CROWD[-2:]:  # four careful ones and two careless ones
            user = users.create_user(
                session, system, username=contributor.username, role="annotator"
            )
            crowd.append((contributor, Actor(user.id, user.username, user.role)))
    gate = gate_for(settings)
    try:
        yield Demo(db, settings, gate, manager, crowd)
    finally:
        gate.close()


def _count(db: Database, model: type[Item] | type[Label] | type[ItemMedia]) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the SIMULATED post-editor ------------------------------------------------------------


def test_align_pairs_words_by_minimum_edits() -> None:
    assert align(["take", "a", "photo"], ["take", "uh", "a", "phone"]) == [
        ("take", "take"), (None, "uh"), ("a", "a"), ("photo", "phone"),
    ]  # fmt: skip
    assert align(["call", "Maya"], []) == [("call", None), ("Maya", None)]
    assert align([], ["uh"]) == [(None, "uh")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["call", "Maya", "on", "speaker", "uh"]), max_size=8),
    st.lists(st.sampled_from(["call", "Maya", "on", "speaker", "uh"]), max_size=8),
)
def test_an_alignment_spells_both_sides_and_costs_the_edit_distance(
    reference: list[str], hypothesis: list[str]
) -> None:
    pairs = align(reference, hypothesis)
    assert [r for r, _ in pairs if r is not None] == reference
    assert [h for _, h in pairs if h is not None] == hypothesis
    edits = sum(r != h for r, h in pairs)
    if reference:
        assert edits == round(word_error_rate([" ".join(reference)], [" ".join(hypothesis)])
                              * len(reference))  # fmt: skip


def test_a_perfect_listener_restores_the_truth_and_a_reader_cannot_always() -> None:
    rng = random.Random(0)
    rows = list(generate(400, seed=2))
    recogniser = SimulatedRecogniser()
    device = [recogniser.transcribe(r["text"], language=r["language"], rng=rng) for r in rows]
    truths = [r["text"] for r in rows]

    def wer(editor: PostEditor) -> float:
        edits = [
            editor.post_edit(d, t, language=r["language"], rng=random.Random(i))
            for i, (d, t, r) in enumerate(zip(device, truths, rows, strict=True))
        ]
        return word_error_rate(truths, edits)

    before = word_error_rate(truths, device)
    listener, reader = wer(PostEditor(0.95, hears=True)), wer(PostEditor(0.95, hears=False))
    careless = wer(PostEditor(0.4, hears=True))
    assert listener < 0.3 * before and listener < reader < before < careless
    assert wer(PostEditor(1.0, hears=True)) < 0.02  # only the 5% it misses of each kind


# --- the rounds through the real import path ------------------------------------------------


@needs_audio
def test_a_round_of_spoken_requests_is_imported_post_edited_fused_and_scored(
    demo: Demo,
) -> None:
    requests, why = demo.start(per_round=3)
    assert requests is not None and why is None
    done = requests.run_round(1)
    assert (done.received, done.withheld) == (3, 0)
    assert done.engines in ("espeak-ng", "signal") and 1.0 < done.seconds < 20
    # Every request was post-edited by three SIMULATED contributors, paid per audio second.
    assert _count(demo.db, Label) == 3 * 3 == done.post_edits and done.cost_minor > 3 * 3 * 2
    # The server gave the recording only to the voice-cleared (every other contributor).
    assert 0 <= done.heard <= done.post_edits
    assert done.device_wer is not None and done.fused_wer is not None and done.fused == 3
    assert done.words > 0 and done.fused_words == done.words
    line = done.line()
    assert "3 spoken request(s)" in line and "SIMULATED recogniser WER" in line
    assert len(line.splitlines()) == 1 and "WER" in done.cell()
    with demo.db.transaction(readonly=True) as session:
        rows = session.execute(
            select(Item.external_id, Item.data, ItemMedia.kind, ItemMedia.sha256,
                   ItemMedia.duration_ms, ItemMedia.sealed_blob)
            .join(ItemMedia, ItemMedia.item_id == Item.id)
        ).all()  # fmt: skip
    store = blob_store_for(demo.settings)
    assert len(rows) == 3
    for external_id, data, kind, sha, duration_ms, sealed in rows:
        assert kind == "audio" and duration_ms > 0 and sealed and store.exists(sealed)
        assert store.exists(served_key(sha))
        assert external_id in requests.truth and data["transcript"]
        # Names and numbers never reach the stored transcript.
        for name in ("Maya", "Tomás", "Aiko", "Priya", "Jonas", "Léa", "Omar", "Grace"):
            assert name not in data["transcript"]
    assert "SIMULATED" in requests.summary(queued=0)


@needs_audio
def test_without_espeak_the_round_imports_generated_signals(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loupe.demo import speech

    monkeypatch.setattr(speech, "espeak_path", lambda: None)
    requests, _ = demo.start(per_round=2)
    assert requests is not None
    done = requests.run_round(1)
    assert done.engines == "signal" and (done.received, done.withheld) == (2, 0)
    assert (
        done.post_edits == 6
        and done.fused == 2
        and "read by generated signals (espeak-ng is not" in done.line()
    )
    with demo.db.transaction(readonly=True) as session:
        rates = set(session.scalars(select(ItemMedia.sample_rate)))
    assert rates == {16_000}


@needs_audio
def test_who_hears_the_recording_is_the_servers_call(demo: Demo) -> None:
    requests, _ = demo.start(per_round=2)
    assert requests is not None
    done = requests.run_round(1)
    # Contributors 0, 2, 4 hold a voice clearance, 1, 3, 5 do not: the payload decides.
    cleared = {demo.crowd[k][1].user_id for k in (0, 2, 4)}
    with demo.db.transaction(readonly=True) as session:
        labellers = list(session.scalars(select(Label.user_id)))
    assert done.heard == sum(user in cleared for user in labellers)


@needs_audio
def test_rounds_accumulate_into_one_summary(demo: Demo) -> None:
    requests, _ = demo.start(per_round=2)
    assert requests is not None
    first, second = requests.run_round(1), requests.run_round(2)
    assert first.cost_minor > 0 and second.cost_minor > 0
    summary = requests.summary(queued=1)
    assert "4 spoken request(s)" in summary and "1 spoken request(s) wait for people" in summary
    assert f"post-edited them {first.post_edits + second.post_edits} times" in summary


def test_without_the_audio_extra_the_requests_are_skipped_in_one_line(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = audio_rounds.NEED_EXTRA
    monkeypatch.setattr(audio_rounds, "audio_unavailable", lambda: reason)
    requests, why = demo.start()
    assert requests is None and why == reason
    line = AudioRound(1, skipped=why).line()
    assert line == f"audio: skipped, {reason}" and AudioRound(1, skipped=why).cell() == "–"
    assert _count(demo.db, Item) == 0


def test_none_per_round_turns_the_spoken_requests_off(demo: Demo) -> None:
    requests, why = demo.start(per_round=0)
    assert requests is None and why == "turned off"
    with demo.db.transaction(readonly=True) as session:
        assert not session.scalars(select(Project.name).where(Project.name == AUDIO_PROJECT)).all()


def test_the_demo_runs_without_the_audio_extra_and_says_so_each_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loupe.demo import image_rounds

    monkeypatch.setattr(audio_rounds, "audio_unavailable", lambda: audio_rounds.NEED_EXTRA)
    monkeypatch.setattr(image_rounds, "images_unavailable", lambda: "images off in this test")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--database-url", url, "--rounds", "2", "--per-round", "20"]
    result = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"audio: skipped, {audio_rounds.NEED_EXTRA}") == 2
    assert f"{AUDIO_PROJECT}: spoken requests skipped, {audio_rounds.NEED_EXTRA}" in result.output


@needs_audio
def test_the_demo_speaks_and_reports_its_spoken_requests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--database-url", url, "--rounds", "2", "--per-round", "20"]
    result = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert result.output.count("SIMULATED recogniser WER") == 2
    assert f"{AUDIO_PROJECT}: " in result.output and "spoken request(s) to post-edit" in (
        result.output
    )
    assert "What the glasses hear" in (tmp_path / "report.html").read_text(encoding="utf-8")
