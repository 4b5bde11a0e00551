"""What a detector is, and the context helpers the recognizers share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar, Protocol

from loupe.privacy.spans import Detection

__all__ = ["Detector", "context_before", "has_cue", "shielded"]

# Placeholders written by the redactor ("[EMAIL]", "[PERSON_2]"); detectors must
# never report inside them, which is what makes redaction idempotent.
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*\]")


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


def shielded(text: str) -> str:
    """``text`` with each placeholder overwritten by a same-length run of a neutral mark.

    Offsets are preserved, and the mark (U+2591) is neither a word character, a
    digit nor a separator any pattern accepts, so nothing can match across or
    inside a placeholder.
    """
    if "[" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: "\u2591" * len(m.group()), text)
