from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loupe.privacy import Redactor, Scanner
from loupe.privacy.normalisation import Normalised

SCANNER = Scanner()
PLACEHOLDER = Redactor(policy="placeholder")
# Zero-width space, non-joiner, joiner, word joiner, soft hyphen, LRM, RLM, BOM,
# left-to-right embedding, pop directional formatting, invisible separator.
HIDDEN = "\u200b\u200c\u200d\u2060\u00ad\u200e\u200f\ufeff\u202a\u202c\u2063"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("+44\u200b20\u200b7946\u200b0958", "PHONE"),
        ("ana\u200b@example.org", "EMAIL"),
        ("call +44\u00ad20\u20607946\ufeff0958 today", "PHONE"),
        ("card \uff14\uff11\uff11\uff11 1111 1111 1111", "CREDIT_CARD"),
        ("mail ana\u200d.ruiz@corr\u200ceo.es", "EMAIL"),
    ],
)
def test_hidden_characters_do_not_hide_an_identifier(text: str, kind: str) -> None:
    spans = SCANNER.detect(text)
    assert [d.type for d in spans] == [kind]
    redacted = PLACEHOLDER.redact(text).text
    assert f"[{kind}]" in redacted
    assert not any(ch.isdigit() or ch == "@" or ch in HIDDEN for ch in redacted)


def test_spans_map_back_to_the_original_characters() -> None:
    text = "mail ana\u200b@example.org or call +44\u200b20\u200b7946\u200b0958."
    spans = SCANNER.detect(text)
    assert [(text[d.start : d.end], d.type) for d in spans] == [
        ("ana\u200b@example.org", "EMAIL"),
        ("+44\u200b20\u200b7946\u200b0958", "PHONE"),
    ]
    assert PLACEHOLDER.redact(text).text == "mail [EMAIL] or call [PHONE]."


def test_combining_marks_compose_and_map_to_whole_characters() -> None:
    text = "Jose\u0301 Garci\u0301a called"
    norm = Normalised.of(text)
    assert norm.text == "José García called"
    assert norm.to_original(0, 4) == (0, 5)
    assert norm.to_original(5, 11) == (6, 13)


def test_text_that_needs_nothing_is_left_alone() -> None:
    for text in ("plain ascii", "déjà vu", "给王伟打电话"):
        norm = Normalised.of(text)
        assert norm.identity
        assert norm.text == text


IDENTIFIERS = [
    ("+44 20 7946 0958", "PHONE"),
    ("4111 1111 1111 1111", "CREDIT_CARD"),
    ("ana.ruiz@correo.es", "EMAIL"),
    ("123-45-6789", "US_SSN"),
    ("DE89 3704 0044 0532 0130 00", "IBAN"),
]
# Fullwidth and other compatibility forms that NFKC maps to ASCII.
COMPATIBLE = {
    **{str(d): chr(0xFF10 + d) for d in range(10)},
    **{chr(c): chr(0xFF21 + c - ord("A")) for c in range(ord("A"), ord("Z") + 1)},
    **{chr(c): chr(0xFF41 + c - ord("a")) for c in range(ord("a"), ord("z") + 1)},
    "@": "\uff20",
    ".": "\uff0e",
    "-": "\uff0d",
    "+": "\uff0b",
}


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, int, int, str, str]:
    """A sentence with one identifier whose characters are disguised at random."""
    value, kind = draw(st.sampled_from(IDENTIFIERS))
    out: list[str] = []
    for ch in value:
        if ch in COMPATIBLE and draw(st.booleans()):
            ch = COMPATIBLE[ch]
        out.append(ch)
        if draw(st.integers(0, 2)) == 0:
            out.append(draw(st.text(alphabet=HIDDEN, min_size=1, max_size=3)))
    before = draw(st.sampled_from(["call me at ", "details: ", "", "so "]))
    after = draw(st.sampled_from(["", " thanks", " now.", "\u200b ok"]))
    hidden = "".join(out).rstrip(HIDDEN)
    return before + "".join(out) + after, len(before), len(before) + len(hidden), value, kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disguised())
def test_disguised_identifiers_are_never_hidden(case: tuple[str, int, int, str, str]) -> None:
    text, start, end, value, kind = case
    spans = SCANNER.detect(text)
    assert all(0 <= d.start < d.end <= len(text) for d in spans)
    # Found whole, as its own type or (next to "call") as a phone.
    assert any(d.start <= start and end <= d.end and d.type in (kind, "PHONE") for d in spans)
    redacted = PLACEHOLDER.redact(text).text
    visible = unicodedata.normalize("NFKC", redacted)
    assert not any(ch.isdigit() for ch in visible)
    assert value not in visible
