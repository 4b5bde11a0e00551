"""Telephone numbers in many numbering plans, validated with ``phonenumbers``.

A loose pattern proposes digit groups; each candidate is then validated against
Google's libphonenumber metadata (international form first, then a list of
national plans). Validity alone is weak evidence for a bare digit run, so the
score also weighs format (``+`` prefix, grouping) and nearby words: "call",
"Tel.", "Handy", "portable", "móvil", "电话" raise it; "order", "invoice",
"tracking", currency signs lower it (a number written with a ``+`` stays above the
threshold: the gate fails toward redaction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import phonenumbers

from loupe.privacy.detectors.base import digit_count, has_cue
from loupe.privacy.spans import Detection

__all__ = ["PhoneDetector"]

DEFAULT_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "ES", "CN", "IT", "IN", "NL", "BE", "CH", "AT", "PT", "IE",
    "PL", "SE", "BR", "MX", "JP", "AU", "CA",
)  # fmt: skip

_GROUP = r"(?:\(\d{1,5}\)[ \-/]?)?\d{1,12}"
# Groups are joined by one or two separators, or by nothing before a bracketed trunk
# prefix or area code ("+44(0)115 496 0914").
_JOIN = r"(?:[ \-./]{1,2}|(?=\())"
_MIN_DIGITS = 7
_EXTENSION = re.compile(r"\s?(?:extension|ext\.?|x|#)\s?\d{1,5}$", re.IGNORECASE)
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9_+\u2591(])(?:(?:\+|00|\(\+\d{1,3}\))\s?)?(?:\d{7,15}|"
    + _GROUP
    + r"(?:"
    + _JOIN
    + _GROUP
    + r"){1,7}"
    r"|\(\d{1,5}\)[ \-/.]?\d{1,12}(?:" + _JOIN + _GROUP + r"){0,6})"
    r"(?:\s?(?:extension|ext\.?|x|#)\s?\d{1,5})?(?![A-Za-z0-9_\u2591]|[.\-/]\d)",
    re.IGNORECASE,
)
# A national number written in groups ("(020) 7496 0266", "11 9608-2040") or with a
# trunk prefix ("03296617667") has the form of a phone number.
_GROUPED = re.compile(r"\d+(?:[ \-./()]+\d+)+|\(\d+\)[ \-./]?\d+")
# A date with a four-digit year, perhaps with an hour or a count after it:
# "01.02.2023 10", "2023-10-12". French numbers ("06.12.34.56.78") are not.
_DATE_LIKE = re.compile(
    r"(?:\d{1,2}([./\-])\d{1,2}\1\d{4}|\d{4}([./\-])\d{1,2}\2\d{1,2})(?:[ ]\d{1,2})?"
)
# A contiguous run with a trunk prefix, or a Chinese mobile number, reads as a phone.
_NATIONAL_RUN = re.compile(r"0\d{9,10}|1[3-9]\d{9}")
_CUE = re.compile(
    r"(?:\b(?:call|calls|calling|called|phone|phones|tel|tél|telephone|téléphone|telefon|"
    r"telefono|teléfono|mobile|mobil|cell|cellphone|handy|portable|móvil|movil|fax|ring|"
    r"text|sms|whatsapp|signal|dial|number|nummer|numéro|número|reach|contact|hotline|"
    r"rufnummer|llama|llamar|appelle|appeler|anrufen|ruf|joindre|contacto)\b|电话|手机|号码|致电|联系)",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"(?:\b(?:order|invoice|tracking|ref|reference|isbn|issn|ticket|case|po|sku|serial|lot|batch|"
    r"population|total|amount|price|bestellung|rechnung|commande|facture|pedido|factura|"
    r"id|account|acct|iban|card|version|build|coordinates|lat|lon|ssn|nino|dni|nie|"
    r"mrn|policy|member|plate|vin|imei)\b|[$€£¥%]|订单)",
    re.IGNORECASE,
)


class PhoneDetector:
    """Telephone numbers, international or in any of ``regions``' national formats.

    >>> d = next(PhoneDetector().detect("call Maria Schmidt at +49 30 1234567"))
    >>> d.type, d.start, d.end
    ('PHONE', 22, 36)
    """

    name: ClassVar[str] = "phone"
    types: ClassVar[tuple[str, ...]] = ("PHONE",)

    def __init__(self, regions: tuple[str, ...] = DEFAULT_REGIONS) -> None:
        self.regions = regions

    def detect(self, text: str) -> Iterator[Detection]:
        # A candidate's digits are the text's (\d), and a phone number has at least 7.
        if digit_count(text) < _MIN_DIGITS:
            return
        for m in _CANDIDATE.finditer(text):
            raw = m.group()
            number = _EXTENSION.sub("", raw)
            digits = sum(ch.isdigit() for ch in number)
            if not _MIN_DIGITS <= digits <= 17:
                continue
            if _DATE_LIKE.fullmatch(number):
                continue  # "01.02.2023 10", "2023-10-12": a date, whatever the plan says
            valid = self._valid(raw)
            # The gate fails toward redaction: a number shaped like a phone is one, even
            # where the numbering plan calls it unassigned.
            if not valid and not self._shaped(number, digits):
                continue
            score = self._score(text, m.start(), m.end(), raw) - (0 if valid else 0.05)
            if valid and _NATIONAL_RUN.fullmatch(raw):
                score += 0.1
            yield Detection(m.start(), m.end(), "PHONE", round(max(score, 0.05), 2))

    def _valid(self, raw: str) -> bool:
        cleaned = raw.strip()
        if cleaned.startswith("00"):
            cleaned = "+" + cleaned[2:].lstrip()
        if cleaned.startswith("+"):
            return _is_valid(cleaned, None)
        return any(_is_valid(cleaned, region) for region in self.regions)

    def _shaped(self, number: str, digits: int) -> bool:
        """Whether ``number`` (without extension) has the form of a phone number."""
        if number.startswith(("+", "00", "(+")):
            international = "+" + number.lstrip("(+0").lstrip()
            if digits >= 8 and _is_possible(international.replace(")", " ", 1)):
                return True
        if not 8 <= digits <= 13:
            return False
        return _GROUPED.fullmatch(number) is not None or number.startswith("0")

    def _score(self, text: str, start: int, end: int, raw: str) -> float:
        score = 0.45
        if raw.startswith(("+", "00")):
            score += 0.3
        elif any(ch in raw for ch in " -.()/"):
            score += 0.15
        if has_cue(text, start, end, _CUE, window=30):
            score += 0.3
        before = text[max(0, start - 25) : start]
        if _NEGATIVE.search(before) and not _CUE.search(before[-12:]):
            # An order or case number is a digit run; one written with a "+" ("+44 20
            # 7946 0958") is a phone whatever word precedes it ("member since 2019
            # +49 30 1234567"): context lowers it, never below the threshold.
            score -= 0.2 if raw.startswith(("+", "(+")) else 0.4
        return round(max(0.05, min(score, 0.99)), 2)


def _is_valid(number: str, region: str | None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))


def _is_possible(number: str, region: str | None = None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))
