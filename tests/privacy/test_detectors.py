from __future__ import annotations

from itertools import pairwise

import pytest

from loupe.errors import InvalidInput
from loupe.privacy import DETECTORS, Detection, Scanner, resolve_overlaps
from loupe.privacy.checksums import (
    cn_resident_id_valid,
    iban_valid,
    it_fiscal_code_valid,
    luhn_valid,
    verhoeff_valid,
    vin_valid,
)

SCANNER = Scanner()


def found(text: str) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.type) for d in SCANNER.detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ana.ruiz@correo.es now", ("ana.ruiz@correo.es", "EMAIL")),
        ("mail josé@correo.es now", ("josé@correo.es", "EMAIL")),
        ("mail ana@ex\u0430mple.org now", ("ana@ex\u0430mple.org", "EMAIL")),  # a Cyrillic a
        ("联系ana@example.org谢谢", ("ana@example.org", "EMAIL")),
        ("call john smith tomorrow", ("john smith", "PERSON")),
        ("tell michael i'm late", ("michael", "PERSON")),
        ("call me on +49 30 1234567", ("+49 30 1234567", "PHONE")),
        ("mobile (415) 555-2671", ("(415) 555-2671", "PHONE")),
        ("手机13800138000\uff0c请回电", ("13800138000", "PHONE")),
        ("my card is 4111 1111 1111 1111", ("4111 1111 1111 1111", "CREDIT_CARD")),
        ("card: 4111.1111.1111.1111.", ("4111.1111.1111.1111", "CREDIT_CARD")),  # not a MAC
        # A number just before a card ("2024 4111…", 20 digits in one run) did not hide it.
        ("in 2024 4111 1111 1111 1111, paid", ("4111 1111 1111 1111", "CREDIT_CARD")),
        ("IBAN DE89 3704 0044 0532 0130 00 please", ("DE89 3704 0044 0532 0130 00", "IBAN")),
        ("host 192.168.10.4 down", ("192.168.10.4", "IP_ADDRESS")),
        ("from 2001:db8::8a2e:370:7334", ("2001:db8::8a2e:370:7334", "IP_ADDRESS")),
        ("mac 00:1A:2B:3C:4D:5E", ("00:1A:2B:3C:4D:5E", "MAC_ADDRESS")),
        ("see https://example.org/p?id=7.", ("https://example.org/p?id=7", "URL")),
        ("I was born on 17 May 1961", ("17 May 1961", "DATE_OF_BIRTH")),
        ("SSN 123-45-6789", ("123-45-6789", "US_SSN")),
        ("ssn 123456789", ("123456789", "US_SSN")),  # not the serial-number cue "sn"
        ("Hauptkonto 0532013000", ("0532013000", "ACCOUNT_NUMBER")),
        ("身份证11010519491231002X", ("11010519491231002X", "CN_RESIDENT_ID")),
        ("NI number AB 12 34 56 C", ("AB 12 34 56 C", "UK_NINO")),
        ("aadhaar 2341 2341 2346", ("2341 2341 2346", "IN_AADHAAR")),
        ("DNI 12345678Z", ("12345678Z", "ES_DNI")),
        ("NIE X1234567L", ("X1234567L", "ES_DNI")),
        ("CF RSSMRA85T10A562S", ("RSSMRA85T10A562S", "IT_FISCAL_CODE")),
        ("NIR 2 55 08 14 168 025 38", ("2 55 08 14 168 025 38", "FR_NIR")),
        ("MRN: 00482913", ("00482913", "MEDICAL_RECORD_NUMBER")),
        ("member ID XJH-448-2291", ("XJH-448-2291", "HEALTH_PLAN_NUMBER")),
        ("VIN 1M8GDM9AXKP042788", ("1M8GDM9AXKP042788", "VIN")),
        ("plaque AB-123-CD", ("AB-123-CD", "LICENSE_PLATE")),
        ("a 93 year old man", ("93", "AGE_OVER_89")),
        (
            "ship to 12 rue de la Paix, 75002 Paris",
            ("12 rue de la Paix, 75002 Paris", "STREET_ADDRESS"),
        ),
        ("我住在北京市朝阳区建国路88号", ("北京市朝阳区建国路88号", "STREET_ADDRESS")),
        ("call Maria Schmidt tomorrow", ("Maria Schmidt", "PERSON")),
        ("my name is Zebulon Quarrington", ("Zebulon Quarrington", "PERSON")),
        ("给王伟打电话", ("王伟", "PERSON")),
    ],
)
def test_detects_each_type(text: str, expected: tuple[str, str]) -> None:
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "order #48213377 shipped",
        "upgrade to version 10.2.1.4",
        "the invoice total is 1,234,567.89 EUR",
        "meeting moved to 10:30:00",
        "4111 1111 1111 1112 fails Luhn",
        "New York and Paris are lovely in May",
        "Meeting with Acme Corp about the roadmap",
        "a 42 year old man",
    ],
)
def test_ignores_numbers_and_words_that_are_not_identifiers(text: str) -> None:
    assert found(text) == []


def test_spans_do_not_overlap_and_are_sorted() -> None:
    text = "Call Ana Lopez at +34 612 345 678 or ana@x.es, card 4111-1111-1111-1111"
    spans = SCANNER.detect(text)
    assert all(a.end <= b.start for a, b in pairwise(spans))


def test_resolve_overlaps_prefers_score_then_length() -> None:
    low = Detection(0, 10, "PHONE", 0.6)
    high = Detection(0, 19, "CREDIT_CARD", 0.95)
    longer = Detection(20, 30, "A", 0.5)
    shorter = Detection(20, 25, "B", 0.5)
    assert resolve_overlaps([low, high, shorter, longer]) == [high, longer]


def test_registry_names_match_classes() -> None:
    assert sorted(DETECTORS) == sorted(cls.name for cls in DETECTORS.values())


def test_unknown_detector_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown detector"):
        Scanner(["nope"])


def test_detector_error_withholds() -> None:
    class Broken:
        name = "broken"
        types = ("X",)

        def detect(self, text: str) -> list[Detection]:
            raise RuntimeError("boom")

    scanner = Scanner(["email"])
    scanner.detectors.append(Broken())  # type: ignore[arg-type]
    scan = scanner.scan("hello")
    assert (scan.verdict, scan.reason, scan.spans) == ("withhold", "error", ())


def test_checksums_known_values() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST12345698765433")
    assert verhoeff_valid("2363")
    assert not verhoeff_valid("2364")
    assert cn_resident_id_valid("11010519491231002X")
    assert it_fiscal_code_valid("RSSMRA85T10A562S")
    assert vin_valid("1M8GDM9AXKP042788")
    assert not vin_valid("1M8GDM9AYKP042788")


def test_a_dotted_phone_number_is_not_a_birth_date() -> None:
    from loupe.privacy.detectors.dates import DateDetector

    detector = DateDetector()
    assert list(detector.detect("née le 3 mars 1950, tél. 01.40.72.16.81")) != []
    assert [d.type for d in detector.detect("né le x, tél. 01.40.72.16.81")] == []
    assert [d.type for d in detector.detect("born 31/12/1961")] == ["DATE_OF_BIRTH"]
    assert [d.type for d in detector.detect("born 41/13/1961")] == []


def test_two_cards_in_one_run_of_digits_are_both_found() -> None:
    text = "4111 1111 1111 1111 5500 0000 0000 0004"
    assert found(text) == [
        ("4111 1111 1111 1111", "CREDIT_CARD"),
        ("5500 0000 0000 0004", "CREDIT_CARD"),
    ]
