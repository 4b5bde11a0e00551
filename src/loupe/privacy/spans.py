"""Detected spans and how overlapping candidates are resolved."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Detection", "cover_overlaps", "resolve_overlaps"]


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
    kept: list[Detection] = []  # sorted by start, disjoint
    starts: list[int] = []
    for cand in sorted(candidates, key=_rank):
        # Only the kept spans on either side of where it would go can overlap it.
        at = bisect_right(starts, cand.start)
        if (at and kept[at - 1].end > cand.start) or (at < len(kept) and kept[at].start < cand.end):
            continue
        kept.insert(at, cand)
        starts.insert(at, cand.start)
    return kept


def _rank(d: Detection) -> tuple[float, int, int, str]:
    return (-d.score, -d.length, d.start, d.type)


def cover_overlaps(candidates: Iterable[Detection]) -> list[Detection]:
    """Non-overlapping spans that cover every candidate: the gate fails toward redaction.

    :func:`resolve_overlaps` picks the winners (and so the types); each group of
    candidates joined by overlaps then becomes one span over all of them, of the type of
    the best winner in it, so that no part of a candidate a winner beat stays visible.
    O(n log n): a text of digits can hold tens of thousands of candidates.

    >>> mac = Detection(6, 20, "MAC_ADDRESS", 0.9)  # "4111.1111.1111" of a longer number
    >>> number = Detection(6, 25, "PHONE", 0.6)
    >>> cover_overlaps([mac, number])
    [Detection(start=6, end=25, type='MAC_ADDRESS', score=0.9)]
    """
    pool = sorted(candidates, key=lambda d: d.start)
    kept = resolve_overlaps(pool)
    if len(kept) == len(pool):
        return kept  # nothing overlapped
    out: list[Detection] = []
    at = 0  # the next winner: winners are sorted by start, one group holds each
    start, end = pool[0].start, pool[0].end
    for cand in pool[1:]:
        if cand.start >= end:
            at = _cover(out, start, end, kept, at)
            start, end = cand.start, cand.end
        else:
            end = max(end, cand.end)
    _cover(out, start, end, kept, at)
    return out


def _cover(out: list[Detection], start: int, end: int, kept: list[Detection], at: int) -> int:
    """Append the span over ``start..end`` with the best winner's type; the next winner."""
    best = kept[at]  # every group holds a winner: a candidate overlapping none is kept
    while at < len(kept) and kept[at].start < end:
        best = min(best, kept[at], key=_rank)
        at += 1
    out.append(Detection(start, end, best.type, best.score))
    return at
