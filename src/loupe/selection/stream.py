"""Composable generators over a stream of items, in the style of prodigy's recipes.

A stream is any iterable of items (dicts, ids, texts). Wrappers compose::

    for item in prefer_uncertain(stream, predict_proba=model_fn, strategy="margin"):
        ...  # show it to a person; retrain with the answers now and then

:func:`score_stream` pairs items with scores, :func:`prefer_high_scores` reorders
a scored stream through a bounded buffer (memory stays ``O(buffer_size)`` on
an endless stream), :func:`prefer_uncertain` and :func:`prefer_novel` compose the two.
:func:`with_audit` marks a random share of what passes through, with weights.

>>> import numpy as np
>>> probs = {"a": [0.9, 0.1], "b": [0.5, 0.5], "c": [0.7, 0.3]}
>>> fn = lambda items: np.array([probs[i] for i in items])
>>> list(prefer_uncertain(["a", "b", "c"], predict_proba=fn, buffer_size=3))
['b', 'c', 'a']
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.selection.novelty import FeatureMatrix, novelty_score
from loupe.selection.strategies import Pool, get_strategy

__all__ = [
    "Audited",
    "prefer_high_scores",
    "prefer_novel",
    "prefer_uncertain",
    "score_stream",
    "with_audit",
]

T = TypeVar("T")
PredictProba = Callable[[Sequence[T]], NDArray[np.float64]]


def _chunks(stream: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(stream)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def score_stream(
    stream: Iterable[T],
    *,
    predict_proba: Callable[[Sequence[T]], NDArray[np.float64]],
    strategy: str = "margin",
    chunk_size: int = 64,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[float, T]]:
    """Yield ``(score, item)``, scoring ``chunk_size`` items per model call."""
    if chunk_size < 1:
        raise InvalidInput("chunk_size must be >= 1", details={"field": "chunk_size"})
    scorer = get_strategy(strategy)
    generator = rng if rng is not None else np.random.default_rng(0)
    for chunk in _chunks(stream, chunk_size):
        scores = scorer(Pool(probabilities=predict_proba(chunk)), generator)
        yield from zip((float(s) for s in scores), chunk, strict=True)


def prefer_high_scores(scored: Iterable[tuple[float, T]], *, buffer_size: int = 128) -> Iterator[T]:
    """Hold up to ``buffer_size`` items and always release the highest-scoring one.

    Equal scores leave in arrival order; at the end of the stream the buffer drains.
    """
    if buffer_size < 1:
        raise InvalidInput("buffer_size must be >= 1", details={"field": "buffer_size"})
    heap: list[tuple[float, int, T]] = []
    for order, (score, item) in enumerate(scored):
        heapq.heappush(heap, (-score, order, item))
        if len(heap) >= buffer_size:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


def prefer_uncertain(
    stream: Iterable[T],
    *,
    predict_proba: Callable[[Sequence[T]], NDArray[np.float64]],
    strategy: str = "margin",
    buffer_size: int = 128,
) -> Iterator[T]:
    """``prefer_high_scores(score_stream(stream, ...))``: the most uncertain items first."""
    scored = score_stream(stream, predict_proba=predict_proba, strategy=strategy)
    return prefer_high_scores(scored, buffer_size=buffer_size)


def prefer_novel(
    stream: Iterable[T],
    *,
    featurize: Callable[[Sequence[T]], FeatureMatrix],
    labelled: FeatureMatrix,
    buffer_size: int = 128,
    chunk_size: int = 64,
) -> Iterator[T]:
    """Items least like anything labelled (``1 - max cosine similarity``) first."""

    def scored() -> Iterator[tuple[float, T]]:
        for chunk in _chunks(stream, chunk_size):
            scores = novelty_score(featurize(chunk), labelled)
            yield from zip((float(s) for s in scores), chunk, strict=True)

    return prefer_high_scores(scored(), buffer_size=buffer_size)


@dataclass(frozen=True)
class Audited(Generic[T]):
    """An item from :func:`with_audit`; ``weight`` is ``1/share`` for audit items, else 0."""

    item: T
    audit: bool
    weight: float


def with_audit(
    stream: Iterable[T], *, share: float, rng: np.random.Generator
) -> Iterator[Audited[T]]:
    """Mark each item as audit with probability ``share`` (Poisson sampling).

    Use it on the stream *before* any reordering, so audit items are a uniform
    sample of what arrived; their weight ``1/share`` makes accuracy estimates
    unbiased (see :mod:`loupe.selection.audit_sample`).
    """
    if not 0.0 < share <= 1.0:
        raise InvalidInput(f"share must be in (0, 1]; got {share}", details={"field": "share"})
    for item in stream:
        hit = bool(rng.random() < share)
        yield Audited(item=item, audit=hit, weight=1.0 / share if hit else 0.0)
