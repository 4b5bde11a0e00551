"""Run the detectors over one item and give a verdict that depends on the text alone.

The verdict is deterministic: no clock is read, so the same text gets the same
answer on an idle machine and under load. The gate fails toward redaction:

* text longer than ``max_chars`` is withheld (reason ``"too_long"``);
* a detector that raises withholds the item (reason ``"error"``).

Detection runs on a normalised copy (:mod:`loupe.privacy.normalisation`: NFKC,
format characters removed) and every span is mapped back to the original
offsets. Long text is scanned in overlapping windows of ``WINDOW`` characters,
so the work per detector call stays bounded; see :func:`windows` for why no
identifier at a window boundary is missed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from loupe.errors import InvalidInput
from loupe.privacy import detectors as registry
from loupe.privacy.detectors import Detector
from loupe.privacy.detectors.base import shielded
from loupe.privacy.normalisation import Normalised
from loupe.privacy.spans import Detection, cover_overlaps
from loupe.privacy.spoken import spoken_view

__all__ = ["MAX_CHARS", "WINDOW", "Scan", "Scanner", "Verdict", "windows"]

Verdict = Literal["show", "withhold"]

MAX_CHARS = 1_000_000
"""Default size limit: about 150,000 words, far beyond any ordinary document."""
WINDOW = 8192
"""Characters scanned per detector call."""
MARGIN = 128
"""Context a detector may look at around a span (the widest cue window is 40)."""
LONGEST = 512
"""The longest identifier a window boundary is guaranteed not to cut."""
OVERLAP = LONGEST + 2 * MARGIN


@dataclass(frozen=True, slots=True)
class Scan:
    """The outcome of scanning one text: non-overlapping ``spans`` and a ``verdict``.

    ``verdict == "withhold"`` means the caller must not display the raw text;
    ``reason`` then says why (``"error"`` or ``"too_long"``). Spans are offsets in
    the text as given, before normalisation.
    """

    spans: tuple[Detection, ...]
    verdict: Verdict
    reason: str | None


def windows(
    length: int, *, size: int = WINDOW, overlap: int = OVERLAP
) -> Iterator[tuple[int, int]]:
    """Overlapping ``(start, end)`` windows that cover ``range(length)``.

    A span found in a window counts as *interior* when it keeps ``MARGIN``
    characters from each edge the window shares with a neighbour, so its
    detector saw all the context it reads. Consecutive interiors overlap by
    ``overlap - 2 * MARGIN == LONGEST`` characters, so every identifier up to
    ``LONGEST`` characters long is interior to some window.

    >>> list(windows(20_000))
    [(0, 8192), (7424, 15616), (14848, 20000)]
    """
    step = size - overlap
    start = 0
    while True:
        end = min(start + size, length)
        yield (start, end)
        if end >= length:
            return
        start += step


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
        max_chars: int = MAX_CHARS,
    ) -> None:
        known = registry.DETECTORS  # the recognizers are imported on first use
        names = list(known) if detectors is None else list(detectors)
        unknown = sorted(set(names) - set(known))
        if unknown:
            allowed = ", ".join(sorted(known))
            raise InvalidInput(
                f"unknown detector(s) {', '.join(unknown)}; choose from {allowed}",
                details={"field": "detectors", "allowed": sorted(known)},
            )
        self.detectors: list[Detector] = [known[n]() for n in names]
        self.min_score = min_score
        self.max_chars = max_chars

    def scan(self, text: str) -> Scan:
        """Scan ``text``; never raises for a detector failure, it withholds instead."""
        if len(text) > self.max_chars:
            return Scan((), "withhold", "too_long")
        norm = Normalised.of(text)
        view = shielded(norm.text)
        try:
            found = self._detect(view)
            spoken = spoken_view(view)
            if spoken is not None:  # digits and addresses spelled out in words
                found += [
                    Detection(*spoken.map.to_original(d.start, d.end), d.type, d.score)
                    for d in self._detect(spoken.text)
                    if spoken.touches_run(d.start, d.end)
                ]
        except Exception:
            return Scan((), "withhold", "error")
        spans = (Detection(*norm.to_original(d.start, d.end), d.type, d.score) for d in found)
        return Scan(tuple(cover_overlaps(spans)), "show", None)

    def detect(self, text: str) -> list[Detection]:
        """Just the spans (for callers that handle withholding themselves)."""
        return list(self.scan(text).spans)

    def _detect(self, view: str) -> list[Detection]:
        """Spans in ``view``, window by window, merged."""
        if len(view) <= WINDOW:
            return self._detect_window(view)
        interior: list[Detection] = []
        edge: list[Detection] = []
        for start, end in windows(len(view)):
            lo = start + MARGIN if start > 0 else start
            hi = end - MARGIN if end < len(view) else end
            for d in self._detect_window(view[start:end]):
                moved = Detection(d.start + start, d.end + start, d.type, d.score)
                (interior if lo <= moved.start and moved.end <= hi else edge).append(moved)
        # A span cut by a window edge, or read without its full context, is kept only
        # where no window saw that place whole: the gate fails toward redaction, and an
        # identifier longer than LONGEST is covered by the union of its pieces.
        leftover = [e for e in edge if not any(e.overlaps(i) for i in interior)]
        return interior + _merge_same_type(leftover)

    def _detect_window(self, view: str) -> list[Detection]:
        return [
            d
            for detector in self.detectors
            for d in detector.detect(view)
            if d.score >= self.min_score
        ]


def _merge_same_type(spans: list[Detection]) -> list[Detection]:
    """Join overlapping spans of one type into one span over both."""
    merged: list[Detection] = []
    for d in sorted(spans, key=lambda d: (d.type, d.start)):
        last = merged[-1] if merged else None
        if last is not None and last.type == d.type and d.start < last.end:
            merged[-1] = Detection(
                last.start, max(last.end, d.end), d.type, max(last.score, d.score)
            )
        else:
            merged.append(d)
    return merged
