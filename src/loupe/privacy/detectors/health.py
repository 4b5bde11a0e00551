"""HIPAA Safe Harbor identifiers that are recognised by a cue word and a value shape.

Medical record, health plan, account, licence and device serial numbers have no
universal format, so each is found as "cue word, connective, value": "MRN
00482913", "member ID: XJH-448-2291", "Kontonummer 0532013000". VINs carry an
ISO 3779 check digit and are found anywhere; licence plates are found by
national format (UK, French, Chinese) or next to a cue ("plate", "Kennzeichen").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.checksums import luhn_valid, vin_valid
from loupe.privacy.detectors.base import (
    AsciiFold,
    any_of,
    digit_count,
    has_cue,
    literals,
    longest_unspaced,
)
from loupe.privacy.spans import Detection

__all__ = ["HealthIdentifierDetector", "VehicleDetector"]

_CONNECT = (
    r"(?:\s{0,3}(?:number|numbers|no\.?|nos\.?|num\.?|nr\.?|n[°º]\.?|#|id|:|is|was|est|ist|es|"
    r"lautet|de|du|del|=|-)){0,4}\s{0,3}"
)
_VALUE = r"([A-Z0-9](?:[A-Z0-9]|[-/.](?=[A-Z0-9])){3,24})(?![A-Za-z0-9_\u2591])"

_CUES: dict[str, str] = {
    "MEDICAL_RECORD_NUMBER": (
        r"mrn|medical record|med\.? rec\.?|patient id|patient number|patient no|chart|"
        r"hospital number|nhs|case number|patientennummer|patienten-id|fallnummer|"
        r"dossier médical|dossier medical|numéro de dossier|dossier patient|ipp|"
        r"historia clínica|historia clinica|nhc|病历号|住院号|病案号"
    ),
    "HEALTH_PLAN_NUMBER": (
        r"member id|member number|membership|policy|health plan|insurance|insurer|subscriber|"
        r"group number|medicare|medicaid|beneficiary|mbi|versichertennummer|krankenkasse|"
        r"versicherungsnummer|mutuelle|carte vitale|assurance|tarjeta sanitaria|aseguradora|"
        r"póliza|poliza|医保卡号|医保号|保险单号"
    ),
    "ACCOUNT_NUMBER": (
        r"account|acct|a/c|kontonummer|konto|numéro de compte|compte|número de cuenta|cuenta|"
        r"customer number|kundennummer|账号|账户|银行卡号"
    ),
    "DEVICE_ID": (
        r"serial|s/n|sn|device id|device|imei|udi|pacemaker|implant|seriennummer|"
        r"gerätenummer|numéro de série|número de serie|序列号|设备号"
    ),
    "LICENSE_NUMBER": (
        r"licen[cs]e number|licen[cs]e no|driver'?s licen[cs]e|driving licen[cs]e|dl|passport|"
        r"certificate|npi|dea|führerschein|reisepass|permis de conduire|permis|passeport|"
        r"pasaporte|carnet de conducir|护照号?|驾照号?|驾驶证号?"
    ),
}
_GLUED_MIN = 4  # the fewest characters of a cue found at the end of a longer word


def _cue_pattern(cue: str) -> str:
    """A cue as a word, or at the end of a longer one ("Hauptkonto") when it is long enough
    not to end ordinary words: a two- or three-letter cue only as a word ("ssn" does not
    end in the serial-number cue "sn"). CJK cues, written without spaces, need no boundary.
    """
    words = cue.split("|")
    glued = [w for w in words if not (w.isascii() and len(w.replace("\\", "")) < _GLUED_MIN)]
    as_word = r"(?<![A-Za-z0-9_])(?:" + cue + r")\b"
    return f"(?:{as_word}|(?:{'|'.join(glued)}))" if glued else as_word


_CUE_PATTERNS = [
    (kind, re.compile(_cue_pattern(cue) + _CONNECT + _VALUE, re.I)) for kind, cue in _CUES.items()
]
# Pre-check: every cue pattern needs one of the cues (anywhere: a cue may end a word).
# Searched as a trie of the cues' spellings, which finds one in the same texts as
# ``_CUE_ALTERNATION`` (tests/privacy/test_prechecks.py) about four times faster.
_CUE_ALTERNATION = re.compile("|".join(f"(?:{cue})" for cue in _CUES.values()), re.I)
_ANY_CUE = AsciiFold(re.compile(any_of(w for cue in _CUES.values() for w in literals(cue)), re.I))
# CMS Medicare Beneficiary Identifier: fixed positions of digits and letters (no S L O I B Z).
_MBI_L = "AC-HJKMNP-RT-Y"
_MBI_DIGITS = 5  # fixed digit positions: 1, 4, 7, 10 and 11
_IMEI_DIGITS = 15
_MBI = re.compile(
    rf"(?<![A-Za-z0-9_\u2591])[1-9][{_MBI_L}][{_MBI_L}0-9]\d-?[{_MBI_L}][{_MBI_L}0-9]\d-?[{_MBI_L}]{{2}}\d{{2}}(?![A-Za-z0-9_\u2591])"
)
_IMEI = re.compile(
    r"(?<![A-Za-z0-9_\u2591-])\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d(?![A-Za-z0-9_\u2591])"
)
_IMEI_CUE = re.compile(r"\bimei\b", re.I)

_VIN_LENGTH = 17
_VIN = re.compile(
    r"(?<![A-Za-z0-9_\u2591])[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9_\u2591])", re.IGNORECASE
)
_VIN_CUE = re.compile(
    r"\b(?:vin|chassis|fahrgestell\w*|numéro de série du véhicule|bastidor)", re.I
)
_PLATE_FORMATS: tuple[tuple[re.Pattern[str], float], ...] = (
    (
        re.compile(r"(?<![A-Za-z0-9_\u2591])[A-Z]{2}\d{2} ?[A-Z]{3}(?![A-Za-z0-9_\u2591])"),
        0.6,
    ),  # UK current
    (
        re.compile(r"(?<![A-Za-z0-9_\u2591-])[A-Z]{2}-\d{3}-[A-Z]{2}(?![A-Za-z0-9_\u2591-])"),
        0.75,
    ),  # French SIV
    (
        re.compile(
            r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]\s?·?\s?[A-Z0-9]{5,6}"
            r"(?![A-Za-z0-9_\u2591])"
        ),
        0.9,
    ),  # Chinese
)
_PLATE_WORDS = (
    r"licen[cs]e plate|number plate|plate|plates|registration|reg\.?|tag|"
    r"kennzeichen|nummernschild|plaque|immatriculation|matrícula|matricula|placa"
)
# Pre-checks of the formats, in order: two capitals before a digit; a hyphen; a
# province's character (not ASCII).
_PLATE_NEEDS = (re.compile(r"[A-Z]{2}\d"), re.compile("-"), re.compile(r"[^\x00-\x7f]"))
_PLATE_CUE = re.compile(
    r"(?:(?<![A-Za-z0-9_])(?:" + _PLATE_WORDS + r")"
    r"(?:\s{0,3}(?:number|no\.?|#|:|is|ist|est|es|lautet|d'immatriculation|de)){0,3}\s{0,3}"
    r"|车牌号?(?:码)?[:\uff1a是为]?\s?)"
    r"([A-Z0-9\u4e00-\u9fff]{1,4}(?:[ \-·][A-Z0-9]{1,5}){0,3}|[A-Z0-9]{4,8})(?![A-Za-z0-9_\u2591])",
    re.IGNORECASE,
)
# Pre-check: a cued plate needs one of the cue words or 车牌.
_ANY_PLATE_WORD = AsciiFold(re.compile(any_of([*literals(_PLATE_WORDS), "车牌"]), re.I))


class HealthIdentifierDetector:
    """Record, plan, account, licence and device numbers found after a cue word.

    >>> [d.type for d in HealthIdentifierDetector().detect("MRN: 00482913, seen today")]
    ['MEDICAL_RECORD_NUMBER']
    """

    name: ClassVar[str] = "health_identifier"
    types: ClassVar[tuple[str, ...]] = (*_CUES, "HEALTH_PLAN_NUMBER")

    def detect(self, text: str) -> Iterator[Detection]:
        # Each identifier holds at least two digits (a cue's value, an MBI, an IMEI).
        count = digit_count(text)
        if count < 2:
            return
        if _ANY_CUE.found(text):
            for kind, pattern in _CUE_PATTERNS:
                for m in pattern.finditer(text):
                    value = m.group(1)
                    if sum(ch.isdigit() for ch in value) >= 2:
                        yield Detection(m.start(1), m.end(1), kind, 0.85)
        for m in _MBI.finditer(text) if count >= _MBI_DIGITS else ():
            yield Detection(m.start(), m.end(), "HEALTH_PLAN_NUMBER", 0.8)
        for m in _IMEI.finditer(text) if count >= _IMEI_DIGITS else ():
            digits = re.sub(r"\D", "", m.group())
            if luhn_valid(digits) and has_cue(text, m.start(), m.end(), _IMEI_CUE):
                yield Detection(m.start(), m.end(), "DEVICE_ID", 0.97)


class VehicleDetector:
    """Vehicle identification numbers (check digit or cue) and licence plates."""

    name: ClassVar[str] = "vehicle"
    types: ClassVar[tuple[str, ...]] = ("LICENSE_PLATE", "VIN")

    def detect(self, text: str) -> Iterator[Detection]:
        if digit_count(text) == 0:
            # A VIN, a UK or French plate and a cued plate all hold a digit.
            yield from self._chinese_plates(text)
            return
        # A VIN is seventeen letters and digits in a row.
        for m in _VIN.finditer(text) if longest_unspaced(text) >= _VIN_LENGTH else ():
            vin = m.group()
            if not any(ch.isdigit() for ch in vin) or not any(ch.isalpha() for ch in vin):
                continue
            if vin_valid(vin):
                yield Detection(m.start(), m.end(), "VIN", 0.95)
            elif has_cue(text, m.start(), m.end(), _VIN_CUE):
                yield Detection(m.start(), m.end(), "VIN", 0.85)
        for (pattern, score), needed in zip(_PLATE_FORMATS, _PLATE_NEEDS, strict=True):
            if needed.search(text) is None:
                continue
            for m in pattern.finditer(text):
                yield Detection(m.start(), m.end(), "LICENSE_PLATE", score)
        if not _ANY_PLATE_WORD.found(text):
            return
        for m in _PLATE_CUE.finditer(text):
            value = m.group(1)
            if any(ch.isdigit() for ch in value):
                yield Detection(m.start(1), m.end(1), "LICENSE_PLATE", 0.85)

    @staticmethod
    def _chinese_plates(text: str) -> Iterator[Detection]:
        pattern, score = _PLATE_FORMATS[-1]
        for m in pattern.finditer(text):
            yield Detection(m.start(), m.end(), "LICENSE_PLATE", score)
