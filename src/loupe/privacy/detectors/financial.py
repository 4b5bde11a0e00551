"""Payment card numbers (Luhn, length and grouping) and IBANs (ISO 13616 mod-97)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.checksums import iban_valid, luhn_valid
from loupe.privacy.detectors.base import digit_count
from loupe.privacy.spans import Detection

__all__ = ["CreditCardDetector", "IbanDetector"]

# A "+" before the digits makes them a phone number, never a card.
_CARD_MIN_DIGITS = 12
# A whole run of digit groups (a card inside it is found by _cards_in): a pattern capped
# at 19 digits stopped "2024 4111 1111 1111 1111" after "2024 4111 1111 1111", cutting
# the card in two.
_CARD = re.compile(
    r"(?<![A-Za-z0-9_\u2591+.-])\d(?:(?:[ \-.]| {2})?\d){11,}(?![A-Za-z0-9_\u2591]|[-.]\d)"
)
_CARD_MAX_DIGITS = 19
# Issuer identification prefixes, for the scores only: a Luhn-valid number in a
# card's grouping is a card whatever its prefix (the gate fails toward redaction).
# Visa, Mastercard, Amex, Discover, JCB (15 digits: 2131, 1800), Diners, UnionPay,
# Maestro, Mir, Verve, RuPay, Troy.
_IIN = re.compile(r"^(?:4|5[0-9]|2[2-7]|3[0-9]|6[0-9]|2131|1800|220|50|60|65|81|82|9792|0604)")
# Maestro numbers run from 12 to 19 digits; no other network issues 12.
_MAESTRO = re.compile(r"^(?:50|5[6-9]|6[0-9]|0604)")
# How card numbers are written: one run, groups of four (the last may be shorter),
# Amex 4-6-5, Diners 4-6-4, or 19 digits as 6-13; separated by a space, a hyphen, a dot
# or two spaces.
_GROUPINGS = re.compile(
    r"\d{12,19}|\d{4}(?:(?:[ \-.]| {2})\d{4}){2,3}(?:(?:[ \-.]| {2})\d{1,5})?"
    r"|\d{4}((?:[ \-.]| {2}))\d{6}\1\d{4,5}|\d{6}(?:[ \-.]| {2})\d{13}"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9_\u2591])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?"
    r"(?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)

# Pre-check: an IBAN's check digits and its first two groups of four, each letter or
# digit a word character (even those that match [A-Z] only under re.IGNORECASE).
_IBAN_START = re.compile(r"\d\d ?[^\W_]{4} ?[^\W_]{4}")


class CreditCardDetector:
    """Numbers in a card's length and grouping that pass Luhn, whatever the network prefix.

    13 to 19 digits, or 12 with a Maestro prefix, written as one run or in the
    groupings cards are printed in. A prefix no network is known to issue lowers
    the score but still redacts: the gate fails toward redaction.

    >>> [d.type for d in CreditCardDetector().detect("my card is 4111 1111 1111 1111")]
    ['CREDIT_CARD']
    """

    name: ClassVar[str] = "credit_card"
    types: ClassVar[tuple[str, ...]] = ("CREDIT_CARD",)

    def detect(self, text: str) -> Iterator[Detection]:
        if digit_count(text) < _CARD_MIN_DIGITS:
            return  # every card is 12 to 19 of the text's digits
        for m in _CARD.finditer(text):
            for first, last in self._cards_in(m.group()):
                start, end = m.start() + first, m.start() + last
                score = 0.95 if _IIN.match(re.sub(r"\D", "", text[start:end])) else 0.85
                yield Detection(start, end, "CREDIT_CARD", score)

    @staticmethod
    def _cards_in(run: str) -> list[tuple[int, int]]:
        """The card numbers among the windows of whole digit groups of ``run``, overlapping
        ones joined (the gate fails toward redaction).

        A stray number next to a card ("0 4111 1111 1111 1111", "2024 4111 …") makes the
        whole run fail Luhn; trying each window of at most 19 digits finds the card in it.
        """
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
        found: list[tuple[int, int]] = []
        for i in range(len(groups)):
            count = 0
            for j in range(i, len(groups)):
                count += groups[j][1] - groups[j][0]
                if count > _CARD_MAX_DIGITS:
                    break
                start, end = groups[i][0], groups[j][1]
                if count >= _CARD_MIN_DIGITS and _is_card(
                    run[start:end], re.sub(r"\D", "", run[start:end])
                ):
                    if found and start < found[-1][1]:
                        found[-1] = (found[-1][0], max(end, found[-1][1]))
                    else:
                        found.append((start, end))
        return found


def _is_card(written: str, digits: str) -> bool:
    """Whether ``digits`` (as ``written``) has a card number's length, grouping and check digit."""
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn_valid(digits):
        return False
    if len(digits) == 12 and not _MAESTRO.match(digits):
        return False
    return _GROUPINGS.fullmatch(written) is not None


class IbanDetector:
    """International bank account numbers, with or without 4-character grouping."""

    name: ClassVar[str] = "iban"
    types: ClassVar[tuple[str, ...]] = ("IBAN",)

    def detect(self, text: str) -> Iterator[Detection]:
        if _IBAN_START.search(text) is None:
            return
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
