"""Detected spans and how overlapping candidates are resolved."""

from __future__ import annotations

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
    ranked = sorted(candidates, key=lambda d: (-d.score, -d.length, d.start, d.type))
    kept: list[Detection] = []
    for cand in ranked:
        if not any(cand.overlaps(k) for k in kept):
            kept.append(cand)
    kept.sort(key=lambda d: d.start)
    return kept


def cover_overlaps(candidates: Iterable[Detection]) -> list[Detection]:
    """Non-overlapping spans that cover every candidate: the gate fails toward redaction.

    :func:`resolve_overlaps` picks the spans (and so the types); each then grows over the
    candidates it overlaps, so that no part of a candidate it beat stays visible, and
    spans that come to overlap are joined under the better one's type.

    >>> mac = Detection(6, 20, "MAC_ADDRESS", 0.9)  # "4111.1111.1111" of a longer number
    >>> number = Detection(6, 25, "PHONE", 0.6)
    >>> cover_overlaps([mac, number])
    [Detection(start=6, end=25, type='MAC_ADDRESS', score=0.9)]
    """
    pool = list(candidates)
    spans = resolve_overlaps(pool)
    if len(spans) == len(pool):
        return spans  # nothing overlapped
    while True:
        grown = []
        for span in spans:
            near = [c for c in pool if c.overlaps(span)]
            start = min(c.start for c in near)
            end = max(c.end for c in near)
            grown.append(Detection(start, end, span.type, span.score))
        joined: list[Detection] = []
        for span in sorted(grown):
            last = joined[-1] if joined else None
            if last is not None and span.start < last.end:
                better = max(last, span, key=lambda d: (d.score, d.length))
                joined[-1] = Detection(
                    last.start, max(last.end, span.end), better.type, better.score
                )
            else:
                joined.append(span)
        if joined == spans:
            return spans
        spans = joined
