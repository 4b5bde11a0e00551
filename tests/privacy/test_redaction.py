from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.privacy import Detection, Policy, Redactor, Scanner, redact_spans

PLACEHOLDER = Redactor(policy="placeholder")
PSEUDONYM = Redactor(policy="pseudonym")

IDENTIFIERS = [
    "ana.ruiz@correo.es", "+49 30 1234567", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
    "192.168.10.4", "123-45-6789", "Maria Schmidt", "11010519491231002X", "QQ 12 34 56 C",
    "https://example.org/a?b=1", "00:1A:2B:3C:4D:5E", "12345678Z",
]  # fmt: skip
FILLER = ["call", "my card is", "and", "born on 17 May 1961", "ok", "DOB", "the", "at", "Dr"]
texts = st.lists(st.sampled_from(IDENTIFIERS + FILLER), min_size=1, max_size=8).map(" ".join)


def test_placeholder_policy() -> None:
    r = PLACEHOLDER.redact("call Maria Schmidt at +49 30 1234567")
    assert r.text == "call [PERSON] at [PHONE]"
    assert not r.withheld


def test_pseudonyms_are_consistent_within_an_item() -> None:
    r = PSEUDONYM.redact("Maria Lopez met Tom Baker; Maria Lopez paid")
    assert r.text == "[PERSON_1] met [PERSON_2]; [PERSON_1] paid"


def test_pseudonyms_do_not_collide_with_existing_ones() -> None:
    r = PSEUDONYM.redact("[PERSON_1] wrote to ana@x.org about Maria Lopez")
    assert r.text == "[PERSON_1] wrote to [EMAIL_1] about [PERSON_2]"


def test_withhold_policy() -> None:
    r = Redactor(policy="withhold").redact("mail ana@x.org")
    assert (r.text, r.withheld) == ("[WITHHELD]", True)
    assert Redactor(policy="withhold").redact("nothing here").text == "nothing here"


def test_scan_failure_withholds_regardless_of_policy() -> None:
    text = "call +49 30 1234567"
    policies: tuple[Policy, ...] = ("placeholder", "pseudonym")
    for policy in policies:
        r = Redactor(Scanner(max_chars=len(text) - 1), policy=policy).redact(text)
        assert (r.text, r.withheld) == ("[WITHHELD]", True)


def test_span_map_round_trips_labels() -> None:
    text = "Call Maria Schmidt at +49 30 1234567 tomorrow"
    r = PLACEHOLDER.redact(text)
    word = r.text.index("tomorrow")
    start, end = r.to_original(word, word + len("tomorrow"))
    assert text[start:end] == "tomorrow"
    person = r.text.index("[PERSON]")
    start, end = r.to_original(person, person + len("[PERSON]"))
    assert text[start:end] == "Maria Schmidt"
    assert r.to_original(0, len(r.text)) == (0, len(text))


def test_to_original_rejects_out_of_range() -> None:
    with pytest.raises(InvalidInput):
        PLACEHOLDER.redact("hi").to_original(0, 5)


def test_redact_spans_rejects_overlaps_and_unknown_policy() -> None:
    spans = [Detection(0, 5, "A", 0.9), Detection(3, 8, "B", 0.9)]
    with pytest.raises(InvalidInput, match="overlap"):
        redact_spans("0123456789", spans, policy="placeholder")
    with pytest.raises(InvalidInput, match="policy"):
        redact_spans("x", [], policy="bogus")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_no_detected_span_survives_redaction(text: str) -> None:
    spans = Scanner().detect(text)
    redacted = PLACEHOLDER.redact(text).text
    for span in spans:
        assert text[span.start : span.end] not in redacted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, st.text(max_size=60)))
def test_redaction_is_idempotent(text: str) -> None:
    for redactor in (PLACEHOLDER, PSEUDONYM):
        once = redactor.redact(text).text
        assert redactor.redact(once).text == once
        assert Scanner().detect(once) == []
