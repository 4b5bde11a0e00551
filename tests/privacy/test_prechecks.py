"""The recognizers' pre-checks skip only texts their patterns cannot match (issue 18).

Each pre-check (too few digits, no cue word, no capital letter, no CJK character, the
lower-case search of ASCII text) is switched off here to give a reference recognizer;
the checked one must find exactly the same spans in any text.
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.privacy.detectors import (
    DETECTORS,
    addresses,
    dates,
    financial,
    health,
    names,
    national_ids,
    phone,
)
from loupe.privacy.detectors.base import FOLDS_TO_ASCII, AsciiFold, digit_count, has_cjk
from loupe.privacy.detectors.lexicon import WordSet
from loupe.privacy.redaction import Redactor
from loupe.privacy.scanner import Scan, Scanner
from loupe.privacy.spans import Detection

# Pieces that meet every pre-check's edge: cue words (any case, inside other words),
# digits of several scripts, letters that fold to ASCII, CJK, capitals, placeholders.
PIECES = [
    "MRN", "mrn", "Mrn:", "lesson", "account no", "ACCT", "policy", "serial", "s/n", "IMEI",
    "member id", "dossier médical", "Patientennummer", "病历号", "护照号", "车牌号",
    "licence plate", "Kennzeichen", "VIN", "chassis", "plate", "reg", "tag", "DL", "npi",
    "1", "12", "123", "1234", "00482913", "XJH-448-2291", "0532013000", "1EG4-TE5-MK73",
    "49-015420-323751-8", "1HGCM82633A004352", "AB12 CDE", "AB-123-CD", "京A12345", "京ABCDE",
    "123-45-6789", "123456789", "11010519491231002X", "QQ 12 34 56 C", "2345 6789 0124",
    "12345678Z", "X1234567L", "RSSMRA85T10A562S", "RSSMRALPMTLA562S", "1 85 05 78 006 084 36",
    "12/03/1961", "1961-03-12", "3 March 1961", "March 3, 1961", "1961年3月12日", "DOB",
    "born", "admitted", "aged 93", "93 years old", "101-year-old", "age: 95",
    "12 Baker Street", "221B Baker St, London NW1 6XE", "Hauptstraße 5", "12 rue de la Paix",
    "Calle Mayor 5", "北京市朝阳区建国路88号", "\u0661\u0662\u0663\u0664", "\uff11\uff12",
    "Maria Lopez", "call maria", "ring til sten", "Dr", "Mrs.", "Cheers,", "Zebulon", "and",
    "\u017f", "\u212a", "\u0131", "\u0130", "ẞ", "Straße", "[PERSON_1]", "[PHONE]", "São Paulo",
    "hey", "the station", "at", "on Monday", "@", "ana@example.org", "+44 20 7946 0958",
    "0115 496 0914", "020 7946 095", "12 Rue", "Av. Diagonal 640", "Am Markt 3", "XX",
    "RSSMRA85T10A562", "1HGCM82633A00435", "Lindenstr. 4", "\u2591\u2591\u2591",
    "https://x.org/a?id=7", "WWW.Example.com", "ftp://h", "00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e",
    "001a.2b3c.4d5e", "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "1EG4TE5MK73",
]  # fmt: skip
SEPARATORS = ["", " ", " ", ", ", ": ", "-", ".", "\n", "#"]

texts = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), min_size=1, max_size=8
).map(lambda parts: "".join(p + s for p, s in parts)) | st.text(max_size=40)


def _all(text: str) -> dict[str, list[Detection]]:
    return {name: list(cls().detect(text)) for name, cls in DETECTORS.items()}


def _unchecked(text: str) -> dict[str, list[Detection]]:
    """What the recognizers find with every pre-check off (all patterns run)."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (addresses, dates, financial, health, national_ids, phone):
            patch.setattr(module, "digit_count", lambda text: sys.maxsize)
        for module in (health, national_ids):
            patch.setattr(module, "longest_unspaced", lambda text: sys.maxsize)
        for module in (addresses, names):
            patch.setattr(
                module, "has_cjk", lambda text: any("\u4e00" <= ch <= "\u9fff" for ch in text)
            )
        patch.setattr(names, "_may_be_capitalised", lambda text: True)
        always = re.compile("", re.I)
        for module, attr in ((dates, "_DATE_DIGITS"), (dates, "_AGE_DIGITS")):
            patch.setattr(module, attr, always)
        for attr in ("_ANY_CUE", "_ANY_PLATE_WORD"):
            patch.setattr(health, attr, AsciiFold(always))
        patch.setattr(addresses, "_PRECHECKS", [(p, always) for p, _ in addresses._PRECHECKS])
        patch.setattr(health, "_PLATE_NEEDS", [always] * len(health._PLATE_NEEDS))
        patch.setattr(financial, "_IBAN_START", always)
        patch.setattr(AsciiFold, "found", lambda self, text: bool(self.pattern.search(text)))
        return _all(text)


@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_every_recognizer_finds_the_same_spans_with_and_without_its_pre_checks(
    text: str,
) -> None:
    assert _all(text) == _unchecked(text)


@pytest.mark.parametrize(
    "text",
    [
        "MRN: 00482913, seen today",
        "member ID: XJH-448-2291",
        "IMEI 49-015420-323751-8",
        "VIN 1HGCM82633A004352",
        "京ABCDEF",
        "DNI 12345678Z",
        "born 3 March 1961",
        "admitted 12/03/2021",
        "aged 93",
        "send it to 12 rue de la Paix, 75002 Paris",
        "寄到北京市朝阳区建国路88号",
        "call justine tomorrow",
        "Dear Zebulon Quarrington,",
        "\u017ferial 00482913",
    ],
)
def test_identifiers_next_to_each_pre_checks_edge_are_found_alike(text: str) -> None:
    found = _all(text)
    assert any(found.values()), text  # an example some recognizer finds
    assert found == _unchecked(text)


def test_digit_count_counts_every_scripts_decimal_digits() -> None:
    assert digit_count("at 9:30, room \u0664\u0662 \uff11") == 6
    assert digit_count("no digits, only ² and ½") == 0  # not decimal digits (\\d)


def test_has_cjk() -> None:
    assert has_cjk("call 王芳") and not has_cjk("call Wang Fang") and not has_cjk("ça va")


def test_the_letters_that_fold_to_ascii_are_all_known() -> None:
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    folding = {chr(c) for c in range(0x80, sys.maxunicode + 1) if ascii_letter.fullmatch(chr(c))}
    assert folding == set(FOLDS_TO_ASCII)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_ascii_fold_finds_what_the_case_insensitive_pattern_finds(text: str) -> None:
    from loupe.privacy.detectors.name_cues import LOWER_CUE, SIGN_OFF, STRONG_CUE, TITLE

    for pattern in (LOWER_CUE, SIGN_OFF, STRONG_CUE, TITLE, health._ANY_CUE.pattern):
        for piece in (text, text.upper(), text.title()):
            assert AsciiFold(pattern).found(piece) == bool(pattern.search(piece))


@pytest.mark.parametrize(
    "pattern",
    [
        re.compile("call"),
        re.compile("Call", re.I),
        re.compile("[A-Z]x", re.I),
        re.compile("\u017f", re.I),
    ],
)
def test_ascii_fold_refuses_patterns_it_would_change(pattern: re.Pattern[str]) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        AsciiFold(pattern)


def test_a_word_set_remembers_rows_without_changing_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loupe.privacy.detectors import lexicon
    from loupe.privacy.detectors.name_lists import name_lists

    monkeypatch.setattr(lexicon, "ROW_CACHE", 4)
    given_names = name_lists().given
    assert isinstance(given_names, WordSet)
    words = ["Maria", "the", "Zebulon", "Maria", "Piotr", "xqzv", "Anna", "Maria", "the"] * 3
    assert [w in given_names for w in words] == [given_names._search(w) >= 0 for w in words]
    assert len(given_names._rows) <= 4


def test_redact_uses_the_scan_it_is_given() -> None:
    scanner = Scanner()
    redactor = Redactor(scanner)
    text = "mail ana@example.org now"
    scan = scanner.scan(text)
    assert redactor.redact(text, scan=scan) == redactor.redact(text)
    # A scan of its own (here one that finds a word no recognizer would) is not redone.
    made_up = Scan((Detection(0, 4, "PERSON", 0.9),), "show", None)
    assert redactor.redact(text, scan=made_up).text.startswith("[PERSON] ")
