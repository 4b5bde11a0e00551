"""The independent privacy corpus (bench/privacy/independent.py) and its scorer."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pytest

pytest.importorskip(
    "mimesis", reason="mimesis (dev/bench extra) generates the corpus: pip install -e '.[dev]'"
)

from bench.privacy import independent, independent_eval
from bench.privacy import independent_values as values
from bench.privacy.independent import Item, Span


def test_generation_is_deterministic_for_a_seed() -> None:
    first = independent.generate(11, 300)
    assert first == independent.generate(11, 300)
    assert first != independent.generate(12, 300)
    assert independent.generate(11, 120) == first[:120]


@pytest.mark.parametrize("name", ["dev", "holdout"])
def test_frozen_split_is_unchanged(name: str) -> None:
    items = independent.split(name)
    assert len(items) == 1500
    assert independent.SPLITS == {"dev": (101, 1500), "holdout": (202, 1500)}
    assert independent.digest(list(items)) == independent.DIGESTS[name]


@pytest.mark.parametrize("name", ["dev", "holdout"])
def test_spans_are_exact_disjoint_and_typed(name: str) -> None:
    for item in independent.split(name):
        previous_end = 0
        for span in sorted(item.spans):
            value = item.text[span.start : span.end]
            assert value, item
            assert value == value.strip(), item
            assert span.start >= previous_end, item
            assert span.type in independent.LABELS
            previous_end = span.end


def test_every_label_is_covered_and_a_fifth_is_negative() -> None:
    items = independent.split("dev")
    counts = Counter(span.type for item in items for span in item.spans)
    assert set(counts) == set(independent.LABELS)
    assert min(counts.values()) >= 30
    negatives = sum(not item.spans for item in items)
    assert 0.15 * len(items) < negatives < 0.25 * len(items)


def test_structured_values_are_valid() -> None:
    for item in independent.split("dev"):
        for span in item.spans:
            value = item.text[span.start : span.end]
            if span.type == "CREDIT_CARD":
                digits = re.sub(r"[ -]", "", value)
                assert 12 <= len(digits) <= 19
                assert values.luhn_valid(digits), value
            elif span.type == "IBAN":
                assert values.iban_valid(value), value


def test_check_digit_known_answers() -> None:
    assert values.luhn_complete("7992739871") == "79927398713"
    assert values.iban_valid("GB82 WEST 1234 5698 7654 32")
    assert values.iban_valid("DE89370400440532013000")
    assert not values.iban_valid("DE89370400440532013001")


@dataclass
class _Det:
    start: int
    end: int
    type: str


def test_scoring_overlap_matching_and_character_precision() -> None:
    text = "call Anna Berg on 0176 12345678 re order 4411"
    item = Item(
        text=text,
        spans=[Span(5, 14, "PERSON"), Span(18, 31, "PHONE")],
        genre="voice",
        lang="en",
    )
    predictions = [_Det(10, 14, "PERSON"), _Det(18, 22, "EMAIL"), _Det(41, 45, "DEVICE_ID")]

    scores = independent_eval.score([item], detect=lambda _text: predictions)

    assert scores.found == Counter({"PERSON": 1})
    assert scores.recall({"PERSON"}) == 1.0
    assert scores.recall({"PHONE"}) == 0.0
    assert scores.precision("EMAIL") == 0.0
    assert scores.unmapped == 1
    # 4 + 4 characters inside gold, 4 outside
    assert scores.char_precision == pytest.approx(8 / 12)


@pytest.mark.parametrize(
    ("loupe_type", "label"),
    [
        ("PERSON", "PERSON"),
        ("EMAIL_ADDRESS", "EMAIL"),
        ("IP_ADDRESS", "IP_ADDRESS"),
        ("UK_NINO", "UK_NINO"),
        ("US_SSN", "US_SSN"),
        ("ADDRESS", "STREET_ADDRESS"),
        ("DATE", "DATE_OF_BIRTH"),
        ("ZIP_CODE", None),
    ],
)
def test_type_mapping(loupe_type: str, label: str | None) -> None:
    assert independent_eval.label_of(loupe_type) == label


def test_misses_are_refused_on_the_holdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        independent_eval.main(["--split", "holdout", "--misses", "5"])
    assert exc.value.code == 2
    assert "never inspected" in capsys.readouterr().err
