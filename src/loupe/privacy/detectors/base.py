"""What a detector is, and the context helpers the recognizers share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Protocol

from loupe.privacy.spans import Detection

__all__ = [
    "AsciiFold",
    "Detector",
    "any_of",
    "context_before",
    "digit_count",
    "has_cjk",
    "has_cue",
    "literals",
    "longest_unspaced",
    "shielded",
]

# Placeholders written by the redactor ("[EMAIL]", "[PERSON_2]"); detectors must
# never report inside them, which is what makes redaction idempotent.
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
# What :func:`shielded` writes over a placeholder.
SHIELD = "\u2591"
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# The characters that match an ASCII letter under re.IGNORECASE without being one
# (long s, Kelvin sign, dotless i, dotted capital I); tests/privacy checks the list.
FOLDS_TO_ASCII = "\u017f\u212a\u0131\u0130"
_ESCAPE = re.compile(r"\\.")
# The one text whose digits were counted last, and the count: the recognizers that
# pre-check digits are run one after the other on the same text (a tuple, so that a
# reader in another thread sees a text and its own count).
_last_count: tuple[str, int] = ("", 0)
_last_longest: tuple[str, int] = ("", 0)  # the same for :func:`longest_unspaced`


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
    which the constructor checks; and in ASCII text with placeholders shielded
    (:func:`shielded`), as the shield mark has no case. Other text is searched with the
    pattern as given.

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
        if text.isascii() or (SHIELD in text and text.replace(SHIELD, "").isascii()):
            return self._lower.search(text.lower()) is not None
        return self.pattern.search(text) is not None


def digit_count(text: str) -> int:
    """How many decimal digits (``\\d``: any script's) ``text`` holds.

    The pre-check of the recognizers whose every pattern needs digits: a text with
    fewer than a pattern's fewest digits cannot match it, so it is not run.

    >>> digit_count("at 9:30, room \u0664\u0662")
    5
    """
    global _last_count
    last = _last_count
    if last[0] is text:
        return last[1]
    count = len(_DIGIT.findall(text))
    _last_count = (text, count)
    return count


def longest_unspaced(text: str) -> int:
    """The length of the longest run of ``text`` without white space (``str.split``'s).

    The pre-check of the patterns that need a long run of letters and digits (a VIN's
    17, a fiscal code's 16): none of those characters is white space (``\\s``).

    >>> longest_unspaced("VIN 1HGCM82633A004352, ok")
    18
    """
    global _last_longest
    last = _last_longest
    if last[0] is text:
        return last[1]
    longest = max(map(len, text.split()), default=0)
    _last_longest = (text, longest)
    return longest


def literals(alternation: str) -> list[str]:
    """The strings a pattern of plain words matches: ``"lic[cs]e no\\.?|mrn"`` gives
    ``licce no``, ``licce no.``, ``licse no``, ``licse no.`` and ``mrn``.

    Only ``|`` between words, ``\\`` escapes, ``[...]`` sets of single characters and
    ``?`` after one character or set are understood; anything else raises ``ValueError``.

    >>> literals("a/c|licen[cs]e|med\\.? rec")
    ['a/c', 'licence', 'license', 'med rec', 'med. rec']
    """
    out: list[str] = []
    for word in alternation.split("|"):
        variants = [""]
        i = 0
        while i < len(word):
            ch = word[i]
            if ch == "\\" and i + 1 < len(word) and not word[i + 1].isalnum():
                choices, i = [word[i + 1]], i + 2
            elif ch == "[" and "]" in word[i + 1 :]:
                end = word.index("]", i)
                choices, i = list(word[i + 1 : end]), end + 1
                if not choices or any(c in "\\^-[" for c in choices):
                    raise ValueError(f"not a set of plain characters: {word!r}")
            elif ch in "\\()[]{}*+?.^$":
                raise ValueError(f"not a plain word: {word!r}")
            else:
                choices, i = [ch], i + 1
            if word[i : i + 1] == "?":
                choices, i = ["", *choices], i + 1
            variants = [v + c for v in variants for c in choices]
        out.extend(variants)
    return out


def any_of(words: Iterable[str]) -> str:
    """A pattern that finds one of the literal ``words`` wherever their alternation does.

    The words are laid out as a trie (``"ab|ac"`` becomes ``a(?:b|c)``): Python's
    ``re`` tries an alternation's branches one after the other at every position, and a
    trie tries a few first letters instead of every word. Only *whether* and *where* a
    match starts are kept: a word that extends another is dropped (for a search, the
    shorter one is found first), so use it for pre-checks, not for the matched text.

    >>> any_of(["mrn", "acct", "account", "a/c"])
    '(?:a(?:/c|cc(?:ount|t))|mrn)'
    """
    trie: dict[str, Any] = {}
    for word in words:
        if not word:
            raise ValueError("an empty word matches everywhere")
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a word ends here: the longer ones need not be tried
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie)


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
    return PLACEHOLDER.sub(lambda m: SHIELD * len(m.group()), text)
