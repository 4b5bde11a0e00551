"""Payment card numbers (Luhn + issuer prefix) and IBANs (ISO 13616 mod-97)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.checksums import iban_valid, luhn_valid
from loupe.privacy.spans import Detection

__all__ = ["CreditCardDetector", "IbanDetector"]

_CARD = re.compile(r"(?<![A-Za-z0-9_\u2591-])\d(?:[ \-]?\d){12,18}(?![A-Za-z0-9_\u2591]|-\d)")
# Issuer identification prefixes: Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro, Mir.
_IIN = re.compile(
    r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|64[4-9]|65|35|30[0-5]|36|38|62|50|5[6-9]|6[0-9]|220)"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9_\u2591])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?"
    r"(?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)


class CreditCardDetector:
    """13-19 digit numbers, optionally grouped, that pass Luhn and start with a known issuer prefix.

    >>> [d.type for d in CreditCardDetector().detect("my card is 4111 1111 1111 1111")]
    ['CREDIT_CARD']
    """

    name: ClassVar[str] = "credit_card"
    types: ClassVar[tuple[str, ...]] = ("CREDIT_CARD",)

    def detect(self, text: str) -> Iterator[Detection]:
        for m in _CARD.finditer(text):
            found = self._card_in(m.group())
            if found is not None:
                yield Detection(m.start() + found[0], m.start() + found[1], "CREDIT_CARD", 0.95)

    @staticmethod
    def _card_in(run: str) -> tuple[int, int] | None:
        """The longest run of whole digit groups inside ``run`` that is a card number.

        The pattern is greedy, so a stray number next to a card ("0 4111 1111 1111 1111")
        makes the whole run fail Luhn; trying each window of groups finds the card in it.
        """
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
        best: tuple[int, int] | None = None
        for i in range(len(groups)):
            for j in range(len(groups) - 1, i - 1, -1):
                start, end = groups[i][0], groups[j][1]
                if best is not None and end - start <= best[1] - best[0]:
                    break
                digits = re.sub(r"\D", "", run[start:end])
                if (
                    13 <= len(digits) <= 19
                    and _IIN.match(digits)
                    and len(set(digits)) > 1
                    and luhn_valid(digits)
                ):
                    best = (start, end)
                    break
        return best


class IbanDetector:
    """International bank account numbers, with or without 4-character grouping."""

    name: ClassVar[str] = "iban"
    types: ClassVar[tuple[str, ...]] = ("IBAN",)

    def detect(self, text: str) -> Iterator[Detection]:
        for m in _IBAN.finditer(text):
            raw = m.group()
            compact = raw.replace(" ", "").upper()
            end = m.end()
            # The optional tail group can swallow a following word ("… 3000 for"); shrink
            # until the checksum holds.
            while len(compact) >= 15:
                if iban_valid(compact):
                    yield Detection(m.start(), end, "IBAN", 0.98)
                    break
                if " " not in raw:
                    break
                raw = raw.rsplit(" ", 1)[0]
                compact = raw.replace(" ", "").upper()
                end = m.start() + len(raw)
