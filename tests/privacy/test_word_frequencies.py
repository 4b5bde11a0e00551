from __future__ import annotations

import sys
from importlib import metadata

import pytest

from loupe.privacy.detectors import word_frequencies as module
from loupe.privacy.detectors.word_frequencies import COMMON, word_frequencies


def test_reads_wordfreq_lists_when_installed() -> None:
    pytest.importorskip("wordfreq")
    freq = word_frequencies()
    assert freq.source is not None and freq.source.startswith("wordfreq ")
    assert freq.zipf("the") > 7
    # German nouns and a capitalised word are found under any case; "ß" folds to "ss".
    assert freq.common("Heizung") and freq.common("GRÜSSE") and freq.common("Grüße")
    assert freq.zipf("马上") >= COMMON  # Chinese words too
    # Rare names are not words.
    assert freq.zipf("Zebulon") == 0 and not freq.known("Quarrington")


@pytest.mark.parametrize("how", ["not installed", "not importable"])
def test_without_wordfreq_every_word_is_unknown(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    if how == "not installed":
        monkeypatch.setattr(module.metadata, "version", missing)
    else:
        monkeypatch.setitem(sys.modules, "wordfreq", None)  # makes `import wordfreq` fail
    freq = word_frequencies.__wrapped__()
    assert freq.source is None
    assert freq.zipf("the") == 0 and not freq.common("Heizung") and not freq.known("the")
