"""Identifiers spelled out in words, rewritten the way the detectors' patterns expect.

A speech recogniser writes what it hears: "my number is oh seven seven double oh nine
hundred one two three", "send it to ana dot garcia at gmail dot com". People typing
hide addresses the same way on purpose: "ana(at)example(dot)org". No pattern for a
phone, card or e-mail address matches these, so the scanner also runs its detectors
over a *spoken view* of the text, in which

* a run of spoken digits ("oh", "zero", "nought", "one" … "nine", "double" and
  "triple" before a digit, "hundred" and "thousand" after one) that makes at least
  :data:`MIN_DIGITS` digits is written as those digits ("07700900123");
* an address read aloud or bracketed ("<local> at <domain> dot <tld>", "(at)",
  "[dot]", with "dot", "underscore" and "dash" inside the local part) whose last label
  is a known top-level domain is written as one ("ana.garcia@gmail.com").

Each rewritten run maps back to all the words it came from (a
:class:`~loupe.privacy.normalisation.Normalised`), so a detection in the view redacts
the whole spoken identifier. Only detections that touch a rewritten run are taken from
the view: elsewhere it is the text itself.

>>> view = spoken_view("call oh seven seven double oh nine hundred one two three")
>>> view.text
'call 07700900123'
>>> view.map.to_original(5, 16)
(5, 56)
>>> spoken_view("set a timer for five minutes") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loupe.privacy.normalisation import Normalised

__all__ = ["MIN_DIGITS", "SpokenView", "spoken_view"]

MIN_DIGITS = 6
"""The fewest digits a spoken run must make to be rewritten: every identifier the
detectors find by digits alone is longer; shorter runs are times, counts and scores."""

_DIGITS = {
    "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_DIGIT = "(?:" + "|".join(_DIGITS) + ")"
_GAP = r"[\s,\-]+"
# One spoken token: an optional "double"/"triple", a digit word, an optional multiplier.
_TOKEN = rf"(?:(?:double|triple){_GAP})?{_DIGIT}(?:{_GAP}(?:hundred|thousand))?"
_RUN = re.compile(rf"\b{_TOKEN}(?:{_GAP}{_TOKEN})+\b", re.IGNORECASE)
_PART = re.compile(rf"\b(?:(double|triple){_GAP})?({_DIGIT})(?:{_GAP}(hundred|thousand))?\b", re.I)
_TIMES = {None: 1, "double": 2, "triple": 3}
_ZEROS = {None: "", "hundred": "00", "thousand": "000"}

# Top-level domains an address read aloud may end in: the common generic ones and the
# country codes of the languages Loupe's other detectors read. A spoken "at ... dot ..."
# that ends in another word is ordinary speech ("look at that dot on the map"); so the
# codes that are English words (at, be, in, it, me, no, us) are left out.
_TLDS = (
    "com|org|net|edu|gov|info|biz|io|ai|app|dev|co|uk|ca|au|nz|ie|de|ch|fr|nl|lu|es|pt|"
    "pl|cz|se|dk|fi|ru|cn|jp|br|mx|ar|eu"
)
_AT = r"(?:\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+|\s*\.\s*)"
_JOIN = r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._\-])"
_WORD = r"[^\W_]+"
_EMAIL = re.compile(
    rf"(?<![\w@.])({_WORD}(?:{_JOIN}{_WORD}){{0,4}}){_AT}"
    rf"({_WORD}(?:-{_WORD})*(?:{_DOT}{_WORD}(?:-{_WORD})*){{0,3}}){_DOT}({_TLDS})\b",
    re.IGNORECASE,
)
_JOINS = re.compile(r"\s+(dot|underscore|dash|hyphen)\s+", re.IGNORECASE)
_DOTS = re.compile(_DOT, re.IGNORECASE)
_SYMBOL = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_NUMBER_WORDS = frozenset([*_DIGITS, "double", "triple", "hundred", "thousand"])
_CLOSED_AT = ("at)", "at]", "at}", "at>")
_DOT_LABEL = re.compile(r"\.\s*[^\W\d_]{2}")  # a typed dot before a domain label


@dataclass(frozen=True, slots=True)
class SpokenView:
    """The rewritten text (``text``), its map back (``map``) and the rewritten runs
    (``runs``: ``(start, end)`` in ``text``)."""

    map: Normalised
    runs: tuple[tuple[int, int], ...]

    @property
    def text(self) -> str:
        return self.map.text

    def touches_run(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` overlaps a rewritten run."""
        return any(a < end and start < b for a, b in self.runs)


def spoken_view(text: str) -> SpokenView | None:
    """``text`` with its spoken digit runs and spoken addresses rewritten, or ``None``
    when it has neither (the common case, told from the text's words alone)."""
    lowered = text.lower()
    words = lowered.replace(",", " ").replace("-", " ").split()
    # A run of six digits holds a number word between separators, or a "double",
    # "triple", "hundred" or "thousand" between separators; an address an "at" between
    # spaces or before a closing bracket, and a "dot" between spaces, a bracketed one or
    # a "." before a label. (The text is NFKC-normalised, so no letter that case-folds
    # to ASCII hides a word from ``lower``.)
    digits = not _NUMBER_WORDS.isdisjoint(words)
    address = ("at" in words or any(close in lowered for close in _CLOSED_AT)) and (
        "dot" in words
        or ("dot" in lowered and any(bracket in lowered for bracket in "([{<"))
        or _DOT_LABEL.search(lowered) is not None
    )
    if not digits and not address:
        return None
    edits = [*(_digit_runs(text) if digits else ()), *(_addresses(text) if address else ())]
    if not edits:
        return None
    edits.sort()
    kept: list[tuple[int, int, str]] = []
    for edit in edits:  # an address may hold a digit run: the address wins, it is longer
        if kept and edit[0] < kept[-1][1]:
            if edit[1] - edit[0] > kept[-1][1] - kept[-1][0]:
                kept[-1] = edit
            continue
        kept.append(edit)
    return _rewrite(text, kept)


def _digit_runs(text: str) -> list[tuple[int, int, str]]:
    """Each spoken run as digits. Words are joined; a comma or a hyphen between them is
    kept (", ", "-"), so that two numbers read one after the other ("…one two three,
    four one one one…") stay two numbers, as they would be typed."""
    out = []
    for run in _RUN.finditer(text):
        written: list[str] = []
        count, previous = 0, None
        for m in _PART.finditer(run.group()):
            if previous is not None:
                gap = run.group()[previous : m.start()]
                written.append(", " if "," in gap else "-" if "-" in gap else "")
            digits = _DIGITS[m.group(2).lower()] * _TIMES[_lower(m.group(1))]
            digits += _ZEROS[_lower(m.group(3))]
            written.append(digits)
            count += len(digits)
            previous = m.end()
        if count >= MIN_DIGITS:
            out.append((run.start(), run.end(), "".join(written)))
    return out


def _addresses(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _EMAIL.finditer(text):
        local = _JOINS.sub(lambda j: _SYMBOL[j.group(1).lower()], m.group(1))
        domain = _DOTS.sub(".", m.group(2))
        if " " in local or " " in domain:
            continue  # words the pattern's joins did not account for: not an address
        out.append((m.start(), m.end(), f"{local}@{domain}.{m.group(3).lower()}"))
    return out


def _lower(word: str | None) -> str | None:
    return word.lower() if word is not None else None


def _rewrite(text: str, edits: list[tuple[int, int, str]]) -> SpokenView:
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    runs: list[tuple[int, int]] = []
    cursor = 0
    for start, end, new in edits:
        parts.append(text[cursor:start])
        starts.extend(range(cursor, start))
        ends.extend(range(cursor + 1, start + 1))
        at = len(starts)
        parts.append(new)
        starts.extend([start] * len(new))
        ends.extend([end] * len(new))
        runs.append((at, at + len(new)))
        cursor = end
    parts.append(text[cursor:])
    starts.extend(range(cursor, len(text)))
    ends.extend(range(cursor + 1, len(text) + 1))
    view = Normalised(text, "".join(parts), tuple(starts), tuple(ends))
    return SpokenView(view, tuple(runs))
