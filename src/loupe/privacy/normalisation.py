"""Undo the tricks that hide an identifier from a pattern, keeping a map back to the original.

A phone split by zero-width spaces ("+44\u200b20\u200b7946\u200b0958"), an email
with a soft hyphen in it, or digits typed in full width ("\uff10\uff12\uff10") read as
the identifier to a person but not to a regular expression. Detection therefore
runs on a normalised copy of the text:

* format characters (Unicode category Cf: zero-width space, joiners, soft hyphen,
  bidi marks, word joiner, BOM, …) are removed;
* everything else goes through NFKC, one *unit* at a time, where a unit is a
  character with the combining marks that follow it, so that "e" + U+0301 still
  composes to "é" and fullwidth or superscript digits become ASCII ones.

Each character of the normalised text remembers the unit it came from, so a span
found there maps back to exactly the original characters it stands for, with any
hidden characters between them included.

>>> n = Normalised.of("call +44\u200b20 7946\u200b0958")
>>> n.text
'call +4420 79460958'
>>> n.to_original(5, 19)
(5, 21)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["Normalised"]


@dataclass(frozen=True, slots=True)
class Normalised:
    """``text`` normalised from ``original``; ``starts[i]:ends[i]`` is where ``text[i]`` came from.

    ``starts`` and ``ends`` are empty when the two texts are identical.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, original: str) -> Normalised:
        """Normalise ``original`` (a no-op, without a map, for text that needs none)."""
        if original.isascii() or (
            unicodedata.is_normalized("NFKC", original) and not _has_cf(original)
        ):
            return cls(original, original, (), ())
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        i, n = 0, len(original)
        while i < n:
            if unicodedata.category(original[i]) == "Cf":
                i += 1
                continue
            j = i + 1
            # Combining marks join the unit they modify; hidden format characters
            # between a base and its marks are dropped along the way.
            marks: list[str] = []
            while j < n and (
                unicodedata.category(original[j]).startswith("M")
                or (unicodedata.category(original[j]) == "Cf" and _mark_follows(original, j))
            ):
                if unicodedata.category(original[j]) != "Cf":
                    marks.append(original[j])
                j += 1
            unit = unicodedata.normalize("NFKC", original[i] + "".join(marks))
            parts.append(unit)
            starts.extend([i] * len(unit))
            ends.extend([j] * len(unit))
            i = j
        return cls(original, "".join(parts), tuple(starts), tuple(ends))

    @property
    def identity(self) -> bool:
        """Whether normalising changed nothing."""
        return not self.starts and self.text == self.original

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span that ``text[start:end]`` (non-empty) was made from."""
        if self.identity:
            return (start, end)
        return (self.starts[start], self.ends[end - 1])


def _has_cf(text: str) -> bool:
    return any(not ch.isascii() and unicodedata.category(ch) == "Cf" for ch in text)


def _mark_follows(text: str, j: int) -> bool:
    """Whether a run of format characters at ``j`` is followed by a combining mark."""
    k = j
    while k < len(text) and unicodedata.category(text[k]) == "Cf":
        k += 1
    return k < len(text) and unicodedata.category(text[k]).startswith("M")
