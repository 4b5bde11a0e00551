"""Identifiers spelled out in words: the spoken view and what the gate makes of it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.privacy import Redactor, Scanner
from loupe.privacy.spoken import MIN_DIGITS, spoken_view


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("call oh seven seven double oh nine hundred one two three", "call 07700900123"),
        ("four one one one one one one one one one one one one one one one", "4111111111111111"),
        ("seven seven zero zero nine, zero zero one two three - four", "77009, 00123-4"),
        ("triple seven triple eight", "777888"),
        ("Call SEVEN Seven Zero Zero Nine Zero", "Call 770090"),
        ("send it to ana dot garcia at gmail dot com", "send it to ana.garcia@gmail.com"),
        ("ana(at)example(dot)org", "ana@example.org"),
        ("peter [at] icloud [dot] io ok", "peter@icloud.io ok"),
        ("lucas_moreau at aol.fr", "lucas_moreau@aol.fr"),
        ("ana AT acme DOT co dot uk", "ana@acme.co.uk"),
        ("josé at correo dot es", "josé@correo.es"),
    ],
)
def test_spoken_identifiers_are_written_as_the_patterns_expect(text: str, view: str) -> None:
    spoken = spoken_view(text)
    assert spoken is not None
    assert spoken.text == view


@pytest.mark.parametrize(
    "text",
    [
        "set a timer for five minutes",
        "add two eggs and three apples",
        "one two three four five",  # five digits: a count, not an identifier
        "the score was two one at half time",
        "look at that dot on the map",
        "meet me at the station at nine",
        "buy the polka dot dress at the mall",
        "i'm at home dot",
        "someone phoned at noon",
        "",
    ],
)
def test_ordinary_speech_is_left_alone(text: str) -> None:
    assert spoken_view(text) is None


def test_a_rewritten_run_maps_back_to_every_word_it_came_from() -> None:
    text = "my number is oh seven seven double oh nine hundred one two three thanks"
    spoken = spoken_view(text)
    assert spoken is not None
    (run,) = spoken.runs
    start, end = spoken.map.to_original(*run)
    assert text[start:end] == "oh seven seven double oh nine hundred one two three"
    assert spoken.touches_run(run[0], run[0] + 1)
    assert not spoken.touches_run(0, 2)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("my number is seven seven zero zero nine zero zero one two three", "my number is [PHONE]"),
        (
            "pay with four one one one one one one one one one one one one one one one",
            "pay with [CREDIT_CARD]",
        ),
        (
            "my social security number is one two three four five six seven eight nine",
            "my social security number is [US_SSN]",
        ),
        ("email ana dot garcia at gmail dot com the photos", "email [EMAIL] the photos"),
        ("contact ana(at)example(dot)org", "contact [EMAIL]"),
        # Two numbers in one breath: both are redacted.
        (
            "seven seven zero zero nine zero zero one two three, four one one one one one one one "
            "one one one one one one one one",
            "[CREDIT_CARD]",
        ),
    ],
)
def test_the_gate_redacts_spoken_identifiers_whole(text: str, redacted: str) -> None:
    result = Redactor(Scanner()).redact(text)
    assert result.text == redacted
    assert Redactor(Scanner()).redact(result.text).text == result.text  # idempotent


def test_detections_away_from_a_spoken_run_come_from_the_text_itself() -> None:
    text = "mail ana@example.org or call seven seven zero zero nine zero zero one two three"
    spans = [(s.type, text[s.start : s.end]) for s in Scanner().scan(text).spans]
    assert spans == [
        ("EMAIL", "ana@example.org"),
        ("PHONE", "seven seven zero zero nine zero zero one two three"),
    ]


_SPOKEN_WORDS = ["one", "two", "oh", "double", "hundred", "at", "dot", "com", "ana", "call", ","]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SPOKEN_WORDS), max_size=14), st.sampled_from([" ", "  ", "-"]))
def test_the_view_keeps_the_text_outside_its_runs(words: list[str], gap: str) -> None:
    text = gap.join(words)
    spoken = spoken_view(text)
    if spoken is None:
        return
    previous = 0
    for start, end in spoken.runs:
        source_start, source_end = spoken.map.to_original(start, end)
        assert source_start <= source_end
        # Between runs the view is the text, character for character.
        gap_view = spoken.text[previous:start]
        from_start = spoken.map.to_original(previous, start)[0] if start > previous else None
        if from_start is not None:
            assert text[from_start : from_start + len(gap_view)] == gap_view
        previous = end
    runs_digits = [spoken.text[a:b] for a, b in spoken.runs]
    assert all(len(r) >= MIN_DIGITS or "@" in r for r in runs_digits)
