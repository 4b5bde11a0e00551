"""Detected spans and how overlapping candidates are resolved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Detection", "resolve_overlaps"]


@dataclass(frozen=True, slots=True, order=True)
class Detection:
    """One detected identifier: ``text[start:end]`` is of ``type`` with confidence ``score``.

    >>> Detection(start=8, end=24, type="EMAIL", score=0.9).length
    16
    """

    start: int
    end: int
    type: str
    score: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a span needs 0 <= start < end, got {self.start}..{self.end}")

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Detection) -> bool:
        return self.start < other.end and other.start < self.end


def resolve_overlaps(candidates: Iterable[Detection]) -> list[Detection]:
    """Keep a non-overlapping subset, preferring higher score, then the longer span.

    Greedy in that order; the result is sorted by ``start``. Ties after score and
    length go to the earlier span so that the outcome does not depend on the
    order the detectors ran in.

    >>> a = Detection(0, 10, "PHONE", 0.6)
    >>> b = Detection(0, 19, "CREDIT_CARD", 0.95)
    >>> resolve_overlaps([a, b]) == [b]
    True
    """
    ranked = sorted(candidates, key=lambda d: (-d.score, -d.length, d.start, d.type))
    kept: list[Detection] = []
    for cand in ranked:
        if not any(cand.overlaps(k) for k in kept):
            kept.append(cand)
    kept.sort(key=lambda d: d.start)
    return kept
