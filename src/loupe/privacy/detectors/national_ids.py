"""National identity numbers whose structure or check digit can be verified.

US SSN (SSA allocation rules), Chinese resident identity number (MOD 11-2 and
a real birth date), UK National Insurance number (prefix rules), Indian
Aadhaar (Verhoeff), Spanish DNI/NIE (mod-23 letter), Italian codice fiscale
(check letter) and French NIR (mod-97 key).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.checksums import (
    cn_resident_id_valid,
    es_dni_letter,
    fr_nir_valid,
    it_fiscal_code_valid,
    verhoeff_valid,
)
from loupe.privacy.detectors.base import digit_count, has_cue, longest_unspaced
from loupe.privacy.spans import Detection

__all__ = ["NationalIdDetector"]

_B = r"(?<![A-Za-z0-9_\u2591-])"
_E = r"(?![A-Za-z0-9_\u2591]|-\d)"
_SSN = re.compile(_B + r"(\d{3})([- ]?)(\d{2})\2(\d{4})" + _E)
_SSN_CUE = re.compile(r"\b(?:ssn|social security|soc\.? sec|ss#|ss no|tin|taxpayer)", re.I)
_CN_ID = re.compile(r"(?<![A-Za-z0-9_\u2591])\d{17}[\dXx](?![A-Za-z0-9_\u2591])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9_\u2591])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])"
    r" ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])"
    r"(?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_AADHAAR = re.compile(_B + r"[2-9]\d{3}([ -]?)\d{4}\1\d{4}" + _E)
_AADHAAR_CUE = re.compile(r"\b(?:aadhaar|aadhar|uidai|uid)\b|आधार", re.I)
_DNI = re.compile(
    r"(?<![A-Za-z0-9_\u2591])([XYZ]?)[- ]?(\d{7,8})[- ]?([A-Z])(?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)
_CF_LENGTH = 16
_CF = re.compile(
    r"(?<![A-Za-z0-9_\u2591])[A-Z]{6}[\dLMNPQRSTUV]{2}[ABCDEHLMPRST][\dLMNPQRSTUV]{2}[A-Z]"
    r"[\dLMNPQRSTUV]{3}[A-Z](?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)
_NIR = re.compile(
    _B + r"([1278])[ ]?(\d{2})[ ]?(\d{2})[ ]?(\d{2}|2[AB])[ ]?(\d{3})[ ]?(\d{3})[ ]?(\d{2})" + _E,
    re.IGNORECASE,
)
_ID_CUE = re.compile(
    r"\b(?:id|identity|national|passport|dni|nie|nif|nino|insurance|ni number|codice fiscale|"
    r"fiscal|sécurité sociale|securite sociale|nir|insee|ausweis|身份证)",
    re.IGNORECASE,
)


class NationalIdDetector:
    """National identity numbers with checksums (types ``US_SSN``, ``CN_RESIDENT_ID``, …).

    >>> [d.type for d in NationalIdDetector().detect("DNI 12345678Z")]
    ['ES_DNI']
    """

    name: ClassVar[str] = "national_id"
    types: ClassVar[tuple[str, ...]] = (
        "CN_RESIDENT_ID", "ES_DNI", "FR_NIR", "IN_AADHAAR", "IT_FISCAL_CODE", "UK_NINO", "US_SSN",
    )  # fmt: skip

    def detect(self, text: str) -> Iterator[Detection]:
        # All but the fiscal code (whose digits may be written as letters) hold at least
        # six digits: NINO 6, DNI/NIE 7, SSN 9, Aadhaar 12, NIR 12, resident ID 17.
        digits = digit_count(text) >= 6
        if digits:
            yield from self._ssn(text)
            yield from self._cn(text)
            yield from self._nino(text)
            yield from self._aadhaar(text)
            yield from self._dni(text)
        if longest_unspaced(text) >= _CF_LENGTH:  # sixteen letters and digits in a row
            yield from self._cf(text)
        if digits:
            yield from self._nir(text)

    @staticmethod
    def _ssn(text: str) -> Iterator[Detection]:
        for m in _SSN.finditer(text):
            area, sep, group, serial = m.groups()
            if area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000":
                continue
            cue = has_cue(text, m.start(), m.end(), _SSN_CUE)
            if sep == "":
                if cue:
                    yield Detection(m.start(), m.end(), "US_SSN", 0.85)
                continue
            yield Detection(m.start(), m.end(), "US_SSN", 0.95 if cue else 0.8)

    @staticmethod
    def _cn(text: str) -> Iterator[Detection]:
        for m in _CN_ID.finditer(text):
            if cn_resident_id_valid(m.group()):
                yield Detection(m.start(), m.end(), "CN_RESIDENT_ID", 0.97)

    @staticmethod
    def _nino(text: str) -> Iterator[Detection]:
        for m in _NINO.finditer(text):
            prefix = m.group(1).upper()
            if prefix in _NINO_BAD_PREFIX:
                continue
            raw = m.group()
            # Lower-case or oddly spaced forms are accepted only next to a cue word.
            canonical = raw.isupper() and raw.count(" ") in (0, 4)
            cue = has_cue(text, m.start(), m.end(), _ID_CUE)
            if canonical or cue:
                yield Detection(m.start(), m.end(), "UK_NINO", 0.9 if cue else 0.8)

    @staticmethod
    def _aadhaar(text: str) -> Iterator[Detection]:
        for m in _AADHAAR.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if verhoeff_valid(digits):
                cue = has_cue(text, m.start(), m.end(), _AADHAAR_CUE)
                grouped = m.group(1) != ""
                score = 0.95 if cue else (0.75 if grouped else 0.5)
                yield Detection(m.start(), m.end(), "IN_AADHAAR", score)

    @staticmethod
    def _dni(text: str) -> Iterator[Detection]:
        for m in _DNI.finditer(text):
            prefix, number, letter = m.groups()
            if (prefix and len(number) != 7) or (not prefix and len(number) != 8):
                continue
            value = int(str("XYZ".index(prefix.upper())) + number) if prefix else int(number)
            if es_dni_letter(value) == letter.upper():
                yield Detection(m.start(), m.end(), "ES_DNI", 0.93)

    @staticmethod
    def _cf(text: str) -> Iterator[Detection]:
        for m in _CF.finditer(text):
            if it_fiscal_code_valid(m.group()):
                yield Detection(m.start(), m.end(), "IT_FISCAL_CODE", 0.95)

    @staticmethod
    def _nir(text: str) -> Iterator[Detection]:
        for m in _NIR.finditer(text):
            compact = "".join(m.groups()).upper()
            month = int(compact[3:5])
            if (1 <= month <= 12 or month == 20 or 30 <= month <= 42) and fr_nir_valid(compact):
                yield Detection(m.start(), m.end(), "FR_NIR", 0.97)
