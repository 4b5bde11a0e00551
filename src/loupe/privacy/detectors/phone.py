"""Telephone numbers in many numbering plans, validated with ``phonenumbers``.

A loose pattern proposes digit groups; each candidate is then validated against
Google's libphonenumber metadata (international form first, then a list of
national plans). Validity alone is weak evidence for a bare digit run, so the
score also weighs format (``+`` prefix, grouping) and nearby words: "call",
"Tel.", "Handy", "portable", "móvil", "电话" raise it; "order", "invoice",
"tracking", currency signs lower it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import phonenumbers

from loupe.privacy.detectors.base import has_cue
from loupe.privacy.spans import Detection

__all__ = ["PhoneDetector"]

DEFAULT_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "ES", "CN", "IT", "IN", "NL", "BE", "CH", "AT", "PT", "IE",
    "PL", "SE", "BR", "MX", "JP", "AU", "CA",
)  # fmt: skip

_GROUP = r"(?:\(\d{1,5}\)\s?)?\d{1,8}"
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9_+\u2591])(?:(?:\+|00)\s?)?(?:\d{7,15}|"
    + _GROUP
    + r"(?:[ \-./]{1,2}"
    + _GROUP
    + r"){1,7}"
    r"|\(\d{1,5}\)\s?\d{1,5}(?:[ \-./]{1,2}" + _GROUP + r"){0,6})"
    r"(?:\s?(?:ext\.?|x|#)\s?\d{1,5})?(?![A-Za-z0-9_\u2591]|[.\-/]\d)",
    re.IGNORECASE,
)
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
        for m in _CANDIDATE.finditer(text):
            raw = m.group()
            digits = sum(ch.isdigit() for ch in raw)
            if not 7 <= digits <= 17:
                continue
            if not self._valid(raw):
                continue
            score = self._score(text, m.start(), m.end(), raw)
            yield Detection(m.start(), m.end(), "PHONE", score)

    def _valid(self, raw: str) -> bool:
        cleaned = raw.strip()
        if cleaned.startswith("00"):
            cleaned = "+" + cleaned[2:].lstrip()
        if cleaned.startswith("+"):
            return _is_valid(cleaned, None)
        return any(_is_valid(cleaned, region) for region in self.regions)

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
            score -= 0.4
        return round(max(0.05, min(score, 0.99)), 2)


def _is_valid(number: str, region: str | None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))
