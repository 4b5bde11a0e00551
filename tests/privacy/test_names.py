from __future__ import annotations

import sys

import pytest

from loupe.privacy.detectors.name_lists import name_lists
from loupe.privacy.detectors.names import PersonNameDetector

DETECTOR = PersonNameDetector()


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
