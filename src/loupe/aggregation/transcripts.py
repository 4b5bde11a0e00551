"""Transcript fusion: one transcript per utterance from several crowd transcripts.

:class:`TranscriptFusion` is ROVER (Fiscus, IEEE ASRU 1997; see
:mod:`loupe.aggregation.alignment`) with each transcript weighted by its worker's skill, the
skill learned without ground truth, in the spirit of HRRASA (Li, "Crowdsourced Text Sequence
Aggregation based on Hybrid Reliability and Representation", SIGIR 2020), which mixes a
worker's global reliability with how well one answer agrees with the others:

1. Every worker starts at weight 1.
2. Each utterance's transcripts are aligned, heaviest first, into a word transition network.
   From the second round on, each transcript's weight is also scaled by
   ``exp(-local_sharpness * e)``, where ``e`` is its word error rate on *this* utterance
   against the others' verdict; the network is then rebuilt with those weights.
3. Each column votes: the heaviest word wins, or no word when the NULL arc is heaviest.
4. A worker's error rate ``e_k`` is the share of their words that disagree with the
   leave-one-out verdict of the network (the column's winner once their own vote is taken
   out), over all their utterances, smoothed as ``(errors + 1) / (words + 2)``. Their weight
   becomes ``exp(-sharpness * e_k)`` and steps 2-4 repeat ``n_iter`` times in all.

The weights are much sharper than the log-odds ``log((1 - e) / e)`` of independent errors:
crowd errors are correlated (hard audio trips everyone), and on CrowdSpeech dev-clean a sharp
weighting cut the error by a tenth more (see ``bench/aggregation/transcripts.py``).

Words are compared lower-cased without punctuation (:func:`transcript_words`), apostrophes
ignored ("dont" and "don't" vote together); the fused text writes each word as the
heaviest of its written forms, case and punctuation included ("Paris," over "paris").
``confidences_`` is the mean, over the network's columns, of the share of the weight behind
the column's verdict (a word, or no word): 1 when every transcript agrees.

>>> fusion = TranscriptFusion().fit(
...     ["u1", "u1", "u1"], ["ann", "bob", "cy"],
...     ["The cat sat.", "the cat sat", "the bat sat on"],
... )
>>> fusion.texts_
['the cat sat']
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.alignment import NO_WORD, WordNetwork, build_network
from loupe.aggregation.checks import check_positive
from loupe.errors import InvalidInput

__all__ = [
    "FusedTranscript",
    "TranscriptFusion",
    "edit_distance",
    "fuse_transcript",
    "transcript_agreement",
    "transcript_words",
    "word_error_rate",
]

_APOSTROPHES = re.compile(r"[’‘´`ʼ]")
# The privacy gate's placeholders ("[PERSON]", "[PHONE_2]") stand for words: kept whole.
_PLACEHOLDER = re.compile(r"(\[[A-Z][A-Z0-9_]*\])")
# Annotation marks rather than speech: "[inaudible]", "[...]", "*noise*", a lone "*".
_MARKS = re.compile(r"\[(?![A-Z][A-Z0-9_]*\])[^\]]*\]|\*[^*\s]*\*|\*")
_NOT_WORD = re.compile(r"[^\w']+|_")


def transcript_words(text: str) -> list[str]:
    """The words of ``text``: case folded, punctuation and ``[marks]`` removed.

    Apostrophes inside a word stay ("don't"); :func:`word_error_rate` drops them as well. The
    privacy gate's placeholders are words of their own, kept as written.

    >>> transcript_words("Mr. Smith's  dog, [inaudible] *noise* barked at [PERSON_2]!")
    ['mr', "smith's", 'dog', 'barked', 'at', '[PERSON_2]']
    """
    words: list[str] = []
    for index, piece in enumerate(_PLACEHOLDER.split(_MARKS.sub(" ", text))):
        if index % 2:  # a placeholder, as the gate wrote it
            words.append(piece)
            continue
        piece = _APOSTROPHES.sub("'", piece.casefold())
        words.extend(word for word in (part.strip("'") for part in _NOT_WORD.split(piece)) if word)
    return words


def _key(word: str) -> str:
    return word.replace("'", "")


def _tokens(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of ``text`` as compared (keys, :func:`transcript_words` without apostrophes)
    and as written: a word standing alone between spaces keeps its case and punctuation
    ("Smith's,"), so a fused transcript reads like the ones people typed; a token that
    splits into several words ("e-mail") gives them as compared.

    >>> _tokens("Call Mr. O'Neil, [inaudible] at e-mail")
    (('call', 'mr', 'oneil', 'at', 'e', 'mail'), ('Call', 'Mr.', "O'Neil,", 'at', 'e', 'mail'))
    """
    keys: list[str] = []
    written: list[str] = []
    for token in _MARKS.sub(" ", text).split():
        words = transcript_words(token)
        keys.extend(map(_key, words))
        written.extend([token] if len(words) == 1 else words)
    return tuple(keys), tuple(written)


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences (substitutions, deletions, insertions).

    >>> edit_distance(["a", "b", "c"], ["a", "c", "d"])
    2
    """
    if len(reference) < len(hypothesis):
        reference, hypothesis = hypothesis, reference
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, start=1):
        current = [i]
        for j, other in enumerate(hypothesis, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1]


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus word error rate: summed word edit distances over the number of reference words.

    Both sides are lower-cased with punctuation (apostrophes included) removed, the protocol
    of the CrowdSpeech benchmark figures.

    >>> word_error_rate(["the cat sat", "on the mat"], ["The cat sat.", "on a mat"])
    0.16666666666666666
    """
    if len(references) != len(hypotheses):
        raise InvalidInput(
            f"{len(references)} references but {len(hypotheses)} hypotheses; give one each",
            details={"references": len(references), "hypotheses": len(hypotheses)},
        )
    errors = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        expected = list(map(_key, transcript_words(reference)))
        errors += edit_distance(expected, list(map(_key, transcript_words(hypothesis))))
        words += len(expected)
    if words == 0:
        raise InvalidInput("the references hold no words; a word error rate needs some")
    return errors / words


@dataclass(frozen=True)
class _Answer:
    worker: str
    keys: tuple[str, ...]
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Fused:
    text: str
    confidence: float
    errors: list[tuple[str, float, int]]  # (worker, disagreeing words, words)


def _rank(answer: _Answer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return answer.keys, answer.words


def _disagreements(network: WordNetwork, weights: Sequence[float]) -> list[float]:
    """For each transcript, the summed leave-one-out dissent of the columns (see ``dissent``)."""
    counts = [0.0] * len(weights)
    for column in range(len(network.columns)):
        for index, weight in enumerate(weights):
            counts[index] += network.dissent(column, index, weight)
    return counts


def _fuse(answers: Sequence[_Answer], weights: list[float], local_sharpness: float) -> _Fused:
    # Heaviest first (the backbone); equal weights by their words, so row order never matters.
    order = sorted(range(len(answers)), key=lambda index: (-weights[index], _rank(answers[index])))
    answers = [answers[index] for index in order]
    weights = [weights[index] for index in order]
    network = build_network([answer.keys for answer in answers], weights)
    counts = _disagreements(network, weights)
    if local_sharpness > 0:
        local = [
            weight * math.exp(-local_sharpness * count / max(len(answer.keys), 1))
            for weight, count, answer in zip(weights, counts, answers, strict=True)
        ]
        order = sorted(
            range(len(answers)), key=lambda index: (-local[index], _rank(answers[index]))
        )
        answers = [answers[index] for index in order]
        weights = [local[index] for index in order]
        network = build_network([answer.keys for answer in answers], weights)
        counts = _disagreements(network, weights)
    # The spelling of each key with the most weight behind it ("don't" over "dont").
    spellings: dict[str, dict[str, float]] = defaultdict(dict)
    for answer, weight in zip(answers, weights, strict=True):
        for key, word in zip(answer.keys, answer.words, strict=True):
            spellings[key][word] = spellings[key].get(word, 0.0) + weight
    words: list[str] = []
    shares: list[float] = []
    for column, votes in enumerate(network.columns):
        key = network.winner(column)
        shares.append(votes[key] / network.total)
        if key != NO_WORD:
            words.append(max(spellings[key].items(), key=lambda pair: pair[1])[0])
    return _Fused(
        text=" ".join(words),
        confidence=float(np.mean(shares)) if shares else 1.0,
        errors=[
            (answer.worker, count, len(answer.keys))
            for answer, count in zip(answers, counts, strict=True)
        ],
    )


class TranscriptFusion:
    """ROVER weighted by worker skills learned without ground truth (see the module docstring).

    ``fit(items, workers, texts)`` reads the long table of answers, one row per transcript.
    Learned state: ``items_`` (sorted item ids), ``texts_`` (the fused transcript of each,
    each word written as most weight wrote it), ``confidences_`` (in [0, 1]) and ``skills_``
    (worker -> one minus their estimated word error rate).

    >>> fusion = TranscriptFusion().fit(
    ...     ["u1"] * 3 + ["u2"] * 3,
    ...     ["ann", "bob", "cy"] * 2,
    ...     ["I don't know", "i dont know", "I do not know", "yes", "yes", "yes sir"],
    ... )
    >>> list(zip(fusion.items_, fusion.texts_))
    [('u1', "I don't know"), ('u2', 'yes')]
    """

    def __init__(
        self, *, n_iter: int = 3, sharpness: float = 8.0, local_sharpness: float = 2.0
    ) -> None:
        if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
            raise InvalidInput(f"n_iter must be a whole number >= 1, got {n_iter!r}")
        check_positive(sharpness, "sharpness", allow_zero=True)
        check_positive(local_sharpness, "local_sharpness", allow_zero=True)
        self.n_iter = n_iter
        self.sharpness = sharpness
        self.local_sharpness = local_sharpness

    def fit(self, items: Sequence[str], workers: Sequence[str], texts: Sequence[str]) -> Self:
        """Fuse the transcripts of each item; returns ``self``."""
        if not len(items) == len(workers) == len(texts):
            raise InvalidInput(
                f"items, workers and texts differ in length "
                f"({len(items)}, {len(workers)}, {len(texts)}); give one of each per answer"
            )
        if not items:
            raise InvalidInput("no answers to fuse; give at least one transcript")
        grouped: dict[str, list[_Answer]] = defaultdict(list)
        for item, worker, text in zip(items, workers, texts, strict=True):
            grouped[item].append(_Answer(worker, *_tokens(text)))
        self.items_ = sorted(grouped)
        weights: dict[str, float] = dict.fromkeys(workers, 1.0)
        fused: list[_Fused] = []
        for round_ in range(self.n_iter):
            local = self.local_sharpness if round_ > 0 else 0.0
            fused = [
                _fuse(
                    grouped[item],
                    [weights[answer.worker] for answer in grouped[item]],
                    local,
                )
                for item in self.items_
            ]
            errors: dict[str, float] = defaultdict(float)
            counted: dict[str, int] = defaultdict(int)
            for result in fused:
                for worker, count, length in result.errors:
                    errors[worker] += count
                    counted[worker] += max(length, 1)
            rates = {worker: (errors[worker] + 1) / (counted[worker] + 2) for worker in weights}
            weights = {worker: math.exp(-self.sharpness * rate) for worker, rate in rates.items()}
        self.texts_ = [result.text for result in fused]
        self.confidences_: NDArray[np.float64] = np.array(
            [result.confidence for result in fused], dtype=np.float64
        )
        self.skills_ = {worker: max(0.0, 1.0 - rate) for worker, rate in sorted(rates.items())}
        return self


# --- one item, live ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FusedTranscript:
    """One item's fused ``text`` (each word as most weight wrote it), its ``confidence`` (as
    ``TranscriptFusion.confidences_``) and ``agreement`` (:func:`transcript_agreement`)."""

    text: str
    confidence: float
    agreement: float


def _pair_error(a: Sequence[str], b: Sequence[str]) -> float:
    if not a and not b:
        return 0.0
    return min(1.0, 2 * edit_distance(a, b) / (len(a) + len(b)))


def transcript_agreement(texts: Sequence[str]) -> float:
    """WER agreement: the mean over pairs of transcripts of ``1 - d(a, b) / mean length``
    (word edit distance, words as :func:`word_error_rate` compares them, capped at 0);
    1.0 for identical transcripts, NaN with fewer than two.

    >>> transcript_agreement(["the cat sat", "The cat sat.", "the bat sat"])
    0.7777777777777778
    """
    words = [list(map(_key, transcript_words(text))) for text in texts]
    pairs = [
        1.0 - _pair_error(words[i], words[j])
        for i in range(len(words))
        for j in range(i + 1, len(words))
    ]
    return float(np.mean(pairs)) if pairs else float("nan")


def fuse_transcript(
    texts: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    local_sharpness: float = 2.0,
) -> FusedTranscript:
    """Fuse one item's transcripts with the given worker ``weights`` (default: all 1; no
    skill is learned from one item), as one round of :class:`TranscriptFusion` after its
    skills are known: ROVER with each transcript weighted by its worker's weight times
    ``exp(-local_sharpness * e)`` (``e``: its disagreement with the others on this item).

    >>> fuse_transcript(["Turn the lights on", "turn the light on", "turn the lights on"]).text
    'turn the lights on'
    """
    if not texts:
        raise InvalidInput("no transcripts to fuse; give at least one")
    weights = [1.0] * len(texts) if weights is None else list(weights)
    if len(weights) != len(texts) or min(weights) <= 0:
        raise InvalidInput("weights: one positive weight per transcript")
    answers = []
    for index, text in enumerate(texts):
        answers.append(_Answer(str(index), *_tokens(text)))
    fused = _fuse(answers, weights, local_sharpness if len(texts) > 1 else 0.0)
    return FusedTranscript(fused.text, fused.confidence, transcript_agreement(texts))
