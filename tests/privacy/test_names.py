from __future__ import annotations

import sys
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.privacy.detectors.name_lists import name_lists
from loupe.privacy.detectors.names import PersonNameDetector
from loupe.privacy.detectors.word_frequencies import WordFrequencies, word_frequencies

DETECTOR = PersonNameDetector()
# Signals that read word frequencies are off without wordfreq; their tests skip then.
needs_frequencies = pytest.mark.skipif(
    word_frequencies().source is None, reason="wordfreq is not installed"
)


def _names(text: str) -> list[str]:
    # Two patterns may report the same Chinese name; the scanner merges them.
    return list(dict.fromkeys(text[d.start : d.end] for d in DETECTOR.detect(text)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Names no list holds, found from the words around them.
        ("Cheers, Zebulon Quarrington", ["Zebulon Quarrington"]),
        ("Viele Grüße, Zebulon", ["Zebulon"]),
        ("Un saludo, Zebulon Quarrington", ["Zebulon Quarrington"]),
        ("Gestern hat Zebulon Quarrington angerufen", ["Zebulon Quarrington"]),
        ("Hier soir, Zebulon m'a donné son numéro", ["Zebulon"]),
        ("Ayer vi a Zebulon en la oficina", ["Zebulon"]),
        ("Forward this to Zebulon (zq@example.org)", ["Zebulon"]),
        ("Zebulon Quarrington and I drove up", ["Zebulon Quarrington"]),
        ("lunch with Maria Lopez and Zebulon", ["Maria Lopez", "Zebulon"]),
        ("Mrs Quarrington called", ["Quarrington"]),
        ("昨天尹若曦来过", ["尹若曦"]),
        ("请把合同交给王伟", ["王伟"]),
        # Not people.
        ("j'habite au 7 avenue Victor Hugo", []),
        ("meet me at Union Station", []),
        ("SQLite's busy handler sleeps", []),
        ("When called from a coroutine, it waits", []),
        ("Acme Corp and Globex GmbH", []),
        ("New York and Paris are lovely in May", []),
    ],
)
def test_names_from_context_and_shape(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


def test_a_lone_listed_name_opening_a_sentence_needs_more_than_capitalisation() -> None:
    assert _names("Maria, can you call back?") == ["Maria"]
    assert _names("Maria is late") == ["Maria"]  # a verb after a listed name
    assert _names("Mercedes makes cars") == []  # a listed name that is also a brand/place word


def test_the_lists_merge_faker_when_installed() -> None:
    pytest.importorskip("faker")
    lists = name_lists()
    assert len(lists.given) > 5_000 and len(lists.family) > 5_000
    assert any(source.startswith("faker ") for source in lists.sources)
    assert {"Jolene", "Swantje", "Itziar"} <= lists.given  # in faker's lists, not Loupe's
    assert "Austin" in lists.ambiguous and "Page" in lists.ambiguous
    assert "柴" in lists.cjk_surnames


def test_without_faker_the_hand_written_lists_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faker", None)  # makes `import faker` fail
    lists = name_lists.__wrapped__()
    assert lists.sources == ("loupe",)
    assert "Maria" in lists.given and "Schmidt" in lists.family
    assert "Swantje" not in lists.given


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Words at the ends of a run that are not names: odd casing, everyday words.
        ("via LinkedIn Maria Lopez wrote", ["Maria Lopez"]),
        # A particle between capitalised words belongs to the name.
        ("Demain Aurèle Le Bihan arrive", ["Aurèle Le Bihan"]),
    ],
)
def test_runs_are_trimmed_to_the_name(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


@needs_frequencies
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Two capitalised words no list holds, neither an everyday word: a name, anywhere.
        ("Has Zebulon Quarrington signed the lease?", ["Zebulon Quarrington"]),
        ("Gestern war Zebulon Quarrington bei uns", ["Zebulon Quarrington"]),
        ("Ce soir Zebulon Quarrington garde le chat", ["Zebulon Quarrington"]),
        ("Zebulon Quarrington approved it", ["Zebulon Quarrington"]),
        # One rare word: a vocative, a verb people do, a list with a name.
        ("Zebulon, kannst du das Fenster zumachen?", ["Zebulon"]),
        ("See you soon, Zebulon!", ["Zebulon"]),
        ("Zebulon lives near the harbour", ["Zebulon"]),
        ("Zebulon and Maria Lopez came", ["Zebulon", "Maria Lopez"]),
        # A family-name ending after "with"/"and".
        ("dinner with Jaskulski", ["Jaskulski"]),
        ("dinner with Zbořil and Lundqvist", ["Zbořil", "Lundqvist"]),
        # Everyday words are not names, capitalised or not; nor part of one.
        ("Schick Maria Blumen", ["Maria"]),
        ("Die Deutsche Bahn streikt wieder", []),
        ("Gestern Abend gab es Lasagne und Salat", []),
        ("Le Crédit Agricole ferme à midi", []),
        ("Queue up Purple Rain after dinner", []),
        ("Basically everything is fine", []),
        # One rare word with no other evidence stays a word (a brand, an app).
        ("Install Zebulon on the laptop", []),
        # Chinese: a name between known words needs no cue; a family-name character
        # inside an everyday word is no name, even before a cue.
        ("昨天晚上范晓雯回家了", ["范晓雯"]),
        ("这是蒋梓航的书包", ["蒋梓航"]),
        ("谢谢王伟帮忙", ["王伟"]),
        ("我马上打电话给你", []),
        ("颐和园几点关门", []),
        ("高速公路堵车了", []),
        ("空调坏了", []),
    ],
)
def test_names_from_shape_and_frequency(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


def test_without_frequencies_rarity_is_no_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = PersonNameDetector()
    monkeypatch.setattr(detector, "freq", WordFrequencies(MappingProxyType({}), None))

    def names(text: str) -> list[str]:
        return list(dict.fromkeys(text[d.start : d.end] for d in detector.detect(text)))

    # Unlisted words could be anything: only lists and cues count, as before.
    assert names("Has Zebulon Quarrington signed the lease?") == []
    assert names("Die Deutsche Bahn streikt wieder") == []
    assert names("Cheers, Zebulon Quarrington") == ["Zebulon Quarrington"]
    assert names("昨天晚上范晓雯回家了") == []
    assert names("请把合同交给王伟") == ["王伟"]


_WORDS = st.sampled_from(
    ["Maria", "Lopez", "Zebulon", "Quarrington", "Jaskulski", "van", "de", "la", "Le", "and",
     "with", "call", "Heizung", "Purple", "Rain", "LinkedIn", "O'Neil", "Anne-Marie", "Maria's",
     "said", "lives", "the", "Dr.", "Mrs", "Cheers,", "Street", "GmbH", "12", ",", ".", "!", "?",
     "\n"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, max_size=12), st.sampled_from([" ", "", "  "]))
def test_a_name_span_lies_on_word_boundaries(words: list[str], sep: str) -> None:
    text = sep.join(words) if sep else " ".join(words).replace(" ,", ",")
    for d in DETECTOR.detect(text):
        span = text[d.start : d.end]
        assert span == span.strip() and span[0].isupper()
        assert d.start == 0 or not text[d.start - 1].isalnum()
        assert d.end == len(text) or not text[d.end].isalnum()


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_valid_spans(text: str) -> None:
    for d in DETECTOR.detect(text):
        assert 0 <= d.start < d.end <= len(text)
        assert 0.5 <= d.score <= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A speech recogniser writes every name in lower case, the commonest ones too.
        ("call john", ["john"]),
        ("tell michael i'm running late", ["michael"]),
        ("text maria lopez that dinner is at eight", ["maria lopez"]),
        ("call chloe brown on mobile", ["chloe brown"]),  # a listed family name after a name
        # Not people: common words after a calling verb, and a noun "call" or "text".
        ("call mom", []),
        ("call back later", []),
        ("the call will start at nine", []),
        ("your text may be lost", []),
        ("navigate to paris", []),  # "to" is no calling verb: only rare names follow it
    ],
)
def test_lower_case_names_after_a_calling_verb(text: str, expected: list[str]) -> None:
    assert _names(text) == expected
