"""Identifiers an independent probe found missing (issue #12): each must be redacted."""

from __future__ import annotations

import pytest

from loupe.privacy import Redactor, Scanner
from loupe.privacy.checksums import luhn_valid

SCANNER = Scanner()


def with_check_digit(body: str) -> str:
    """``body`` plus the Luhn check digit that makes it valid."""
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable")


def found(text: str) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.type) for d in SCANNER.detect(text)]


@pytest.mark.parametrize(
    "number",
    [
        with_check_digit("21311234567890"),  # JCB, 15 digits
        with_check_digit("18001234567890"),  # JCB, 15 digits
        with_check_digit("67590000001"),  # Maestro, 12 digits
        with_check_digit("675900000000000000"),  # Maestro, 19 digits
        with_check_digit("060401290402"[:11]),  # Maestro UK
        with_check_digit("990012345678901"),  # no known network: still a card
    ],
)
def test_a_luhn_valid_card_shaped_run_is_a_card_whatever_the_network(number: str) -> None:
    assert (number, "CREDIT_CARD") in found(f"paid with {number} yesterday")


@pytest.mark.parametrize(
    "card",
    ["4111  1111  1111  1111", "3782 822463 10005", "6011-0009-9013-9424", "623951-5751403443041"],
)
def test_cards_in_their_usual_groupings(card: str) -> None:
    digits = card.replace(" ", "").replace("-", "")
    assert luhn_valid(digits)
    assert (card, "CREDIT_CARD") in found(f"card {card} exp 12/30")


def test_a_card_grouping_does_not_swallow_phone_numbers() -> None:
    assert found("call +55 11 98765 4321") == [("+55 11 98765 4321", "PHONE")]


@pytest.mark.parametrize(
    "phone",
    [
        "+1-984-182-0190",  # exchange 182 is unassigned in the NANP
        "+41 (0)96 471 07 95",
        "+447700 921 916",
        "+44(0)115 4960914",
        "(020) 74960266",
        "001-946-985-8501",
        "8 (837) 478-85-77",
        "(+358) 885775987",
    ],
)
def test_a_phone_shaped_number_is_a_phone_even_when_unassigned(phone: str) -> None:
    assert (phone, "PHONE") in found(f"reach me at {phone} today")


@pytest.mark.parametrize(
    "text",
    [
        "order +44 20 7946 0958 please",
        "member since 2019 +49 30 1234567",
        "ID: Maria, +33 6 12 34 56 78",
        "re your case +1-984-182-0190",
    ],
)
def test_a_number_written_with_a_plus_is_a_phone_after_any_word(text: str) -> None:
    """Regression: a word that marks order or case numbers ("order", "member", "id",
    "case") within 25 characters before it took a "+44 ..." number below the threshold,
    and the number reached annotators unredacted."""
    assert [t for t in found(text) if t[1] == "PHONE"], text
    assert "[PHONE]" in Redactor().redact(text).text


@pytest.mark.parametrize("text", ["order 00123456789", "invoice 0049 1234", "case 4711 0815"])
def test_bare_order_and_case_numbers_stay_unredacted(text: str) -> None:
    assert [t for t in found(text) if t[1] == "PHONE"] == []


@pytest.mark.parametrize(
    "phone", ["555-201-3344 x769", "(415) 555-2671 ext. 12", "+1-537-640-6812x41586"]
)
def test_an_extension_is_inside_the_phone_span(phone: str) -> None:
    assert (phone, "PHONE") in found(f"call {phone} please")
    assert Redactor().redact(f"call {phone} please").text == "call [PHONE] please"


@pytest.mark.parametrize(
    "text", ["on 01.02.2023 10 people came", "the 2023-10-12 release", "version 10.2.1.4"]
)
def test_dates_and_versions_are_not_phones(text: str) -> None:
    assert [t for t in found(text) if t[1] == "PHONE"] == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("John will bring the documents tomorrow.", "John"),
        ("Please forward this to Nicole before noon.", "Nicole"),
        ("Jensen approved the budget yesterday.", "Jensen"),
        ("The report from Magnusson arrived late.", "Magnusson"),
        ("Szabina J Gelencsér signed the contract.", "Szabina J Gelencsér"),
        ("Send it to J. Smith today.", "J. Smith"),
        ("E. Magnusson", "E. Magnusson"),
        ("hey glasses, call justine", "justine"),
        ("call aimon gutierrez soto on mobile", "aimon gutierrez soto"),
        ("Kurucz meinte, der Bericht kommt erst am Sonntag.", "Kurucz"),
        ("Viele Grüße\nEric", "Eric"),
        ("Groet,\nKyano", "Kyano"),
        ("Eya : 09 03 09 55 73", "Eya"),
    ],
)
def test_lone_names_initials_and_lower_case_names(text: str, name: str) -> None:
    assert (name, "PERSON") in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Cross the road at the lights.",
        "Love you, see you soon",
        "nacida el 11/04/1962 en Bilbao",
        "Bestellnummer 27550747 wurde versendet",
        "call me back tomorrow",
        "Mercedes makes cars",
        "U.S. Army base",
    ],
)
def test_words_that_only_look_like_names_are_left_alone(text: str) -> None:
    assert [t for t in found(text) if t[1] == "PERSON"] == []
