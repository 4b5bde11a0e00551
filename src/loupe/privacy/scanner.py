"""Run the detectors over one item, within a time budget, and give a verdict.

The gate fails closed: if any detector raises, or the scan takes longer than
its budget, or the text is longer than ``max_chars``, the verdict is
``"withhold"`` and the item must not be shown raw. Detectors are pure Python and
cannot be pre-empted mid-regex, so the budget is checked between detectors and
once more at the end; the patterns avoid nested unbounded quantifiers so that
no single detector can run away on adversarial input.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from loupe.errors import InvalidInput
from loupe.privacy.detectors import DETECTORS, Detector
from loupe.privacy.detectors.base import shielded
from loupe.privacy.spans import Detection, resolve_overlaps

__all__ = ["Scan", "Scanner", "Verdict"]

Verdict = Literal["show", "withhold"]


@dataclass(frozen=True, slots=True)
class Scan:
    """The outcome of scanning one text: non-overlapping ``spans`` and a ``verdict``.

    ``verdict == "withhold"`` means the caller must not display the raw text;
    ``reason`` then says why (``"error"``, ``"timeout"``, ``"too_long"``).
    """

    spans: tuple[Detection, ...]
    verdict: Verdict
    reason: str | None
    elapsed_ms: float


class Scanner:
    """Detects identifiers with the registered detectors.

    >>> scan = Scanner().scan("mail ana@example.org or call +44 20 7946 0958")
    >>> [(s.type, s.start, s.end) for s in scan.spans], scan.verdict
    ([('EMAIL', 5, 20), ('PHONE', 29, 45)], 'show')
    """

    def __init__(
        self,
        detectors: Sequence[str] | None = None,
        *,
        min_score: float = 0.5,
        budget_ms: float = 250.0,
        max_chars: int = 100_000,
    ) -> None:
        names = list(DETECTORS) if detectors is None else list(detectors)
        unknown = sorted(set(names) - set(DETECTORS))
        if unknown:
            allowed = ", ".join(sorted(DETECTORS))
            raise InvalidInput(
                f"unknown detector(s) {', '.join(unknown)}; choose from {allowed}",
                details={"field": "detectors", "allowed": sorted(DETECTORS)},
            )
        self.detectors: list[Detector] = [DETECTORS[n]() for n in names]
        self.min_score = min_score
        self.budget_ms = budget_ms
        self.max_chars = max_chars

    def scan(self, text: str) -> Scan:
        """Scan ``text``; never raises for a detector failure, it withholds instead."""
        t0 = time.perf_counter()
        if len(text) > self.max_chars:
            return Scan((), "withhold", "too_long", 0.0)
        view = shielded(text)
        found: list[Detection] = []
        for detector in self.detectors:
            try:
                found.extend(d for d in detector.detect(view) if d.score >= self.min_score)
            except Exception:
                return Scan((), "withhold", "error", _ms_since(t0))
            if _ms_since(t0) > self.budget_ms:
                return Scan((), "withhold", "timeout", _ms_since(t0))
        spans = tuple(resolve_overlaps(found))
        return Scan(spans, "show", None, _ms_since(t0))

    def detect(self, text: str) -> list[Detection]:
        """Just the spans (for callers that handle withholding themselves)."""
        return list(self.scan(text).spans)


def _ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
