"""Dates tied to a person (birth, admission, discharge, death) and ages over 89.

A date alone is not an identifier, so a date is reported only next to a cue:
"born", "DOB", "geboren", "née le", "nacida el", "出生" give ``DATE_OF_BIRTH``;
"admitted", "discharged", "died", "entlassen", "入院" give ``DATE`` (HIPAA Safe
Harbor removes every date element but the year that relates to an individual).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.detectors.base import digit_count
from loupe.privacy.spans import Detection

__all__ = ["AgeDetector", "DateDetector"]

_MONTHS = (
    r"(?:jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?|"
    r"aug(?:ust|\.)?|sep(?:t(?:ember)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?|"
    r"januar|februar|märz|maerz|mai|juni|juli|oktober|dezember|"
    r"janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|"
    r"décembre|decembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"setiembre|octubre|noviembre|diciembre)"
)
_DATE = re.compile(
    r"(?<![A-Za-z0-9_\u2591])(?<!\d[./-])(?:"
    r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    r"|\d{4}[./-]\d{1,2}[./-]\d{1,2}"
    r"|\d{1,2}(?:st|nd|rd|th|er|\.|º)?\s(?:de\s)?" + _MONTHS + r",?\s(?:de\s)?\d{4}"
    r"|" + _MONTHS + r"\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}"
    # Not part of a longer dotted/dashed number (a phone number such as 01.40.72.16.81).
    r")(?![A-Za-z0-9_\u2591])(?![./-]\d)"
    r"|\d{4}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?[日号]",
    re.IGNORECASE,
)
_BIRTH = re.compile(
    r"(?:\b(?:born|birth|birthday|dob|d\.o\.b|b\.|geboren|geb\.|geburtsdatum|geburtstag|"
    r"née?|naissance|nacido|nacida|nacimiento|cumpleaños|fecha de nac)|出生|生日|生于)",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"(?:\b(?:admitted|admission|admit|discharged|discharge|died|death|deceased|dod|"
    r"date of service|dos|surgery|operated|aufgenommen|aufnahme|entlassen|entlassung|"
    r"verstorben|hospitalisée?|admise?|sortie|décédée?|ingreso|ingresó|alta|falleció)\b"
    r"|入院|出院|死亡|去世)",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"(?<![A-Za-z0-9_\u2591])(9\d|1[01]\d)(?:\s?|-)"
    r"(?:years?(?:[- ]old)?|yrs?(?: old)?|y/?o\b|-year-old|ans|jahre(?: alt)?|jährige[rn]?|"
    r"años|岁|周岁)"
    r"|\b(?:aged?|age:|âgée? de|im alter von|edad de)\s?(9\d|1[01]\d)\b",
    re.IGNORECASE,
)


# Pre-checks. A date has digits around a separator ("12/03/61") or a four-digit year
# (after a month name, before 年); an age over 89 has "9" or "10"/"11" before a digit.
_DATE_DIGITS = re.compile(r"\d[./-]\d|\d{4}")
_AGE_DIGITS = re.compile(r"9\d|1[01]\d")


class DateDetector:
    """Birth and care-event dates in numeric, English, German, French, Spanish and Chinese forms.

    >>> [d.type for d in DateDetector().detect("DOB: 12/03/1961")]
    ['DATE_OF_BIRTH']
    """

    name: ClassVar[str] = "date"
    types: ClassVar[tuple[str, ...]] = ("DATE", "DATE_OF_BIRTH")

    def detect(self, text: str) -> Iterator[Detection]:
        if digit_count(text) < 4:
            return  # the shortest date, "1/2/61", has four digits
        if _DATE_DIGITS.search(text) is None:
            return
        for m in _DATE.finditer(text):
            if not _plausible(m.group(0)):
                continue
            before = text[max(0, m.start() - 40) : m.start()]
            after = text[m.end() : m.end() + 15]
            if _BIRTH.search(before) or _BIRTH.search(after):
                yield Detection(m.start(), m.end(), "DATE_OF_BIRTH", 0.9)
            elif _EVENT.search(before):
                yield Detection(m.start(), m.end(), "DATE", 0.75)


_NUMERIC = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{2,4})$")


def _plausible(found: str) -> bool:
    """A numeric date needs a month (1-12) and a day (1-31) in one of the usual orders.

    >>> _plausible("12/03/1961"), _plausible("01.40.72"), _plausible("1961-03-12")
    (True, False, True)
    """
    m = _NUMERIC.match(found)
    if m is None:
        return True
    a, b, c = (int(part) for part in m.groups())
    if len(m.group(1)) == 4:  # year first: YYYY-MM-DD
        return 1 <= b <= 12 and 1 <= c <= 31
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


class AgeDetector:
    """Ages of 90 and over, which HIPAA Safe Harbor requires to be aggregated."""

    name: ClassVar[str] = "age"
    types: ClassVar[tuple[str, ...]] = ("AGE_OVER_89",)

    def detect(self, text: str) -> Iterator[Detection]:
        if digit_count(text) < 2:
            return  # an age over 89 has two or three digits
        if _AGE_DIGITS.search(text) is None:
            return
        for m in _AGE.finditer(text):
            group = 1 if m.group(1) else 2
            yield Detection(m.start(group), m.end(group), "AGE_OVER_89", 0.85)
