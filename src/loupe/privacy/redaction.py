"""Replace detected spans by typed placeholders or pseudonyms, or withhold the item.

Redaction keeps a span map so that annotations made on the redacted text
(entity spans, highlights) can be mapped back to offsets in the original.
It is idempotent: placeholders are shielded from the detectors, and the
redactor re-scans its own output, folding anything that only became visible
after redaction (a date pulled within reach of "born") back into the original
spans until nothing new is found.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from loupe.errors import InvalidInput
from loupe.privacy.scanner import Scan, Scanner
from loupe.privacy.spans import Detection, resolve_overlaps

__all__ = ["POLICIES", "Policy", "Redaction", "Redactor", "SpanMapping", "redact_spans"]

Policy = Literal["placeholder", "pseudonym", "withhold"]
POLICIES: tuple[Policy, ...] = ("placeholder", "pseudonym", "withhold")
WITHHELD = "[WITHHELD]"
_NUMBERED = re.compile(r"\[([A-Z][A-Z0-9_]*?)_(\d+)\]")


@dataclass(frozen=True, slots=True)
class SpanMapping:
    """``original[original_start:original_end]`` became ``redacted[redacted_start:redacted_end]``.

    Only replaced spans are listed; text between them is copied unchanged.
    """

    original_start: int
    original_end: int
    redacted_start: int
    redacted_end: int
    type: str


@dataclass(frozen=True, slots=True)
class Redaction:
    """Redacted text plus the map back to the original.

    >>> r = redact_spans("hi ana@x.org", [Detection(3, 12, "EMAIL", 0.9)], policy="placeholder")
    >>> r.text, r.to_original(3, 10)
    ('hi [EMAIL]', (3, 12))
    """

    text: str
    withheld: bool
    mappings: tuple[SpanMapping, ...]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the redacted text to the original; a placeholder maps to all it hid."""
        if not 0 <= start <= end <= len(self.text):
            raise InvalidInput(
                f"span {start}..{end} is outside the redacted text (length {len(self.text)})",
                details={"field": "span"},
            )
        if self.withheld:
            return (0, self.original_length)
        return (self._map(start, is_end=False), self._map(end, is_end=True))

    def _map(self, pos: int, *, is_end: bool) -> int:
        starts = [m.redacted_start for m in self.mappings]
        i = bisect_right(starts, pos) - 1
        if i >= 0:
            m = self.mappings[i]
            if m.redacted_start < pos < m.redacted_end or (pos == m.redacted_start and not is_end):
                return m.original_start
            if is_end and pos == m.redacted_end and pos > m.redacted_start:
                return m.original_end
            if pos >= m.redacted_end:
                return m.original_end + (pos - m.redacted_end)
        if is_end and i + 1 < len(self.mappings) and pos == self.mappings[i + 1].redacted_start:
            return self.mappings[i + 1].original_start
        return pos


def redact_spans(text: str, spans: Sequence[Detection], *, policy: Policy) -> Redaction:
    """Apply ``policy`` to non-overlapping ``spans`` of ``text`` (pure; no detection)."""
    if policy not in POLICIES:
        raise InvalidInput(
            f"unknown redaction policy {policy!r}; use one of {', '.join(POLICIES)}",
            details={"field": "policy", "allowed": list(POLICIES)},
        )
    ordered = sorted(spans, key=lambda d: d.start)
    if any(a.end > b.start for a, b in pairwise(ordered)):
        raise InvalidInput("spans overlap; resolve them first", details={"field": "spans"})
    if not ordered:
        return Redaction(text, False, (), len(text))
    if policy == "withhold":
        whole = SpanMapping(0, len(text), 0, len(WITHHELD), "WITHHELD")
        return Redaction(WITHHELD, True, (whole,), len(text))
    counters = _existing_counters(text)
    names: dict[tuple[str, str], str] = {}
    parts: list[str] = []
    mappings: list[SpanMapping] = []
    cursor = 0
    out_len = 0
    for d in ordered:
        if d.end > len(text):
            raise InvalidInput(f"span {d.start}..{d.end} is past the end of the text")
        parts.append(text[cursor : d.start])
        out_len += d.start - cursor
        if policy == "pseudonym":
            key = (d.type, " ".join(text[d.start : d.end].casefold().split()))
            if key not in names:
                counters[d.type] = counters.get(d.type, 0) + 1
                names[key] = f"[{d.type}_{counters[d.type]}]"
            label = names[key]
        else:
            label = f"[{d.type}]"
        parts.append(label)
        mappings.append(SpanMapping(d.start, d.end, out_len, out_len + len(label), d.type))
        out_len += len(label)
        cursor = d.end
    parts.append(text[cursor:])
    return Redaction("".join(parts), False, tuple(mappings), len(text))


def _existing_counters(text: str) -> dict[str, int]:
    """Highest pseudonym index already in ``text`` per type, so new ones never collide."""
    counters: dict[str, int] = {}
    for m in _NUMBERED.finditer(text):
        counters[m.group(1)] = max(counters.get(m.group(1), 0), int(m.group(2)))
    return counters


class Redactor:
    """Detect and redact in one step, failing closed.

    >>> r = Redactor(policy="pseudonym").redact("Call Maria Lopez, then Maria Lopez again")
    >>> r.text
    'Call [PERSON_1], then [PERSON_1] again'
    """

    def __init__(
        self, scanner: Scanner | None = None, *, policy: Policy = "placeholder", max_passes: int = 3
    ) -> None:
        if policy not in POLICIES:
            raise InvalidInput(
                f"unknown redaction policy {policy!r}; use one of {', '.join(POLICIES)}",
                details={"field": "policy", "allowed": list(POLICIES)},
            )
        self.scanner = scanner or Scanner()
        self.policy: Policy = policy
        self.max_passes = max_passes

    def redact(self, text: str, *, scan: Scan | None = None) -> Redaction:
        """Redact ``text``; the result is withheld when scanning fails or does not settle.

        ``scan``: this scanner's scan of ``text`` when the caller has made it already (the
        verdict depends on the text alone), so that it is not made twice.
        """
        scan = scan if scan is not None else self.scanner.scan(text)
        if scan.verdict == "withhold":
            return _withheld(text)
        spans = _everywhere(text, list(scan.spans))
        for _ in range(self.max_passes):
            result = redact_spans(text, spans, policy=self.policy)
            if result.withheld:
                return result
            rescan = self.scanner.scan(result.text)
            if rescan.verdict == "withhold":
                return _withheld(text)
            if not rescan.spans:
                return result
            spans = _fold(spans, [_back(result, d) for d in rescan.spans])
        return _withheld(text)


def _everywhere(text: str, spans: list[Detection]) -> list[Detection]:
    """Also cover every other occurrence of a detected value.

    A number found as a phone next to "call" is still that phone after "my card
    is", where the context lowered its score below the threshold.
    """
    extra: list[Detection] = []
    for d in spans:
        value = text[d.start : d.end]
        pos = text.find(value)
        while pos != -1:
            cand = Detection(pos, pos + len(value), d.type, d.score)
            if not any(cand.overlaps(o) for o in (*spans, *extra)):
                extra.append(cand)
            pos = text.find(value, pos + 1)
    return resolve_overlaps([*spans, *extra]) if extra else spans


def _withheld(text: str) -> Redaction:
    return Redaction(
        WITHHELD, True, (SpanMapping(0, len(text), 0, len(WITHHELD), "WITHHELD"),), len(text)
    )


def _back(result: Redaction, d: Detection) -> Detection:
    start, end = result.to_original(d.start, d.end)
    return Detection(start, end, d.type, d.score)


def _fold(spans: list[Detection], new: list[Detection]) -> list[Detection]:
    """Add spans found after redaction; one that covers older spans absorbs them."""
    merged = list(spans)
    for n in new:
        covered = [s for s in merged if s.overlaps(n)]
        start = min([n.start, *(s.start for s in covered)])
        end = max([n.end, *(s.end for s in covered)])
        merged = [s for s in merged if s not in covered]
        merged.append(Detection(start, end, n.type, n.score))
    return resolve_overlaps(merged)
