from __future__ import annotations

import pytest

from loupe.privacy.detectors.name_shape import name_shaped, surname_shaped


@pytest.mark.parametrize(
    "word",
    ["Petrenko", "Jaskulski", "Andersson", "Oltmann", "Papadopoulos", "Öztürkoğlu",
     "Vuković", "Ivanova", "McCreadie", "MacLeod", "O'Donoghue", "Fitzwilliam",
     "Blomqvist", "Pelletier", "Nakamura"],
)  # fmt: skip
def test_family_name_endings_and_prefixes(word: str) -> None:
    assert surname_shaped(word)


@pytest.mark.parametrize(
    "word",
    # Given names, other names, and words whose ending would match without a stem.
    ["Quarrington", "Zebulon", "Maria", "Son", "Ian", "Ova", "Machine", "Mcdonald's", "Fitz"],
)
def test_words_without_a_family_name_shape(word: str) -> None:
    assert not surname_shaped(word)


@pytest.mark.parametrize(
    ("word", "shaped"),
    [("Anne-Marie", True), ("O'Neil", True), ("McDonald", True), ("DeLuca", True),
     ("SQLite", False), ("LinkedIn", False), ("iPhone", False)],
)  # fmt: skip
def test_name_shaped(word: str, shaped: bool) -> None:
    assert name_shaped(word) is shaped
