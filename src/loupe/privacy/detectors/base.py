"""What a detector is, and the context helpers the recognizers share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar, Protocol

from loupe.privacy.spans import Detection

__all__ = [
    "AsciiFold",
    "Detector",
    "context_before",
    "digit_count",
    "has_cjk",
    "has_cue",
    "shielded",
]

# Placeholders written by the redactor ("[EMAIL]", "[PERSON_2]"); detectors must
# never report inside them, which is what makes redaction idempotent.
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# The characters that match an ASCII letter under re.IGNORECASE without being one
# (long s, Kelvin sign, dotless i, dotted capital I); tests/privacy checks the list.
FOLDS_TO_ASCII = "\u017f\u212a\u0131\u0130"
_ESCAPE = re.compile(r"\\.")


class Detector(Protocol):
    """A recognizer: finds candidate spans of one or a few related types in a text."""

    name: ClassVar[str]
    types: ClassVar[tuple[str, ...]]

    def detect(self, text: str) -> Iterator[Detection]: ...


def context_before(text: str, start: int, window: int = 40) -> str:
    """The lower-cased ``window`` characters before ``start``."""
    return text[max(0, start - window) : start].lower()


def has_cue(text: str, start: int, end: int, cue: re.Pattern[str], *, window: int = 40) -> bool:
    """Whether ``cue`` occurs within ``window`` characters before or after the span."""
    before = text[max(0, start - window) : start]
    after = text[end : end + window]
    return cue.search(before) is not None or cue.search(after) is not None


class AsciiFold:
    """A case-insensitive pattern, searched faster in ASCII text.

    Python's ``re`` tries a case-insensitive alternation of words at every position
    without skipping ahead; the same pattern compiled case-sensitively, searched in the
    lower-cased text, skips to the words' first letters and runs about five times faster.
    Both find a match in the same ASCII texts when the pattern's letters are all lower
    case and none of its characters folds to an ASCII letter (:data:`FOLDS_TO_ASCII`),
    which the constructor checks. Other text is searched with the pattern as given.

    >>> AsciiFold(re.compile(r"\\b(?:call|ring)\\s+$", re.I)).found("Please CALL ")
    True
    """

    __slots__ = ("_lower", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        letters = _ESCAPE.sub("", pattern.pattern)
        if not pattern.flags & re.IGNORECASE or any(
            (ch.isascii() and ch.isupper()) or ch in FOLDS_TO_ASCII for ch in letters
        ):
            raise ValueError(f"not a lower-case, case-insensitive pattern: {pattern.pattern!r}")
        self.pattern = pattern
        self._lower = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)

    def found(self, text: str) -> bool:
        """Whether ``pattern.search(text)`` finds a match."""
        if text.isascii():
            return self._lower.search(text.lower()) is not None
        return self.pattern.search(text) is not None


def digit_count(text: str) -> int:
    """How many decimal digits (``\\d``: any script's) ``text`` holds.

    The pre-check of the recognizers whose every pattern needs digits: a text with
    fewer than a pattern's fewest digits cannot match it, so it is not run.

    >>> digit_count("at 9:30, room \u0664\u0662")
    5
    """
    return len(_DIGIT.findall(text))


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK unified ideograph (U+4E00-U+9FFF); ASCII text never does."""
    return not text.isascii() and _CJK.search(text) is not None


def shielded(text: str) -> str:
    """``text`` with each placeholder overwritten by a same-length run of a neutral mark.

    Offsets are preserved, and the mark (U+2591) is neither a word character, a
    digit nor a separator any pattern accepts, so nothing can match across or
    inside a placeholder.
    """
    if "[" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: "\u2591" * len(m.group()), text)
