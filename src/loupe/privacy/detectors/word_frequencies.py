"""How common a word is in the languages Loupe ships, for telling words from names.

A capitalised word that no name list holds may be a name ("Quarrington") or an
ordinary word written with a capital: a German noun ("Heizung"), a word opening
a sentence ("Basically"), a brand or a title made of words ("Purple Rain",
"Crédit Agricole"). Ordinary words are frequent and unlisted names are rare, so the
frequency of the word, in any of English, German, French, Spanish and Chinese,
separates the two well enough to use as evidence.

The frequencies come from the ``wordfreq`` package (Apache-2.0 code; its data,
from Wikipedia, subtitles, news and web text, is CC BY-SA 4.0) when it is
installed: its "small" lists, every word at least once per million words,
about 150,000 distinct words over the five languages, read once per process from
the installed package (nothing is downloaded; ~0.2 s, ~25 MB RSS). Without it only
faker's short lorem lists are available and the checks that need frequencies
(:meth:`WordFrequencies.zipf` returns 0) fall back to the name lists and cues.

Frequencies are on the Zipf scale: log10 of occurrences per billion words, so
3 is once per million words and 6 once per thousand ("the" is about 7.7).

>>> freq = word_frequencies()
>>> freq.zipf("Heizung") > 3.5 if freq.source else True
True
"""

from __future__ import annotations

import gzip
import importlib
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from types import MappingProxyType
from typing import Any

__all__ = ["COMMON", "LANGUAGES", "WordFrequencies", "word_frequencies"]

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "zh")

# At or above this a word is everyday vocabulary in some shipped language; an
# unlisted capitalised word this frequent is taken for a word, not a name. Below 3
# a word is not in the lists at all.
COMMON = 3.5


@dataclass(frozen=True, slots=True)
class WordFrequencies:
    """Zipf frequencies (the highest over :data:`LANGUAGES`) of lower-cased words.

    ``source`` is ``"wordfreq <version>"``, or ``None`` when the package is not
    installed and every word reads as unknown (0).
    """

    tenths: MappingProxyType[str, int]  # word -> Zipf frequency x 10
    source: str | None

    def zipf(self, word: str) -> float:
        """The word's Zipf frequency, 0 when it is rarer than once per million words."""
        return self.tenths.get(word.casefold(), 0) / 10

    def common(self, word: str) -> bool:
        """Whether the word is everyday vocabulary (Zipf >= :data:`COMMON`)."""
        return self.tenths.get(word.casefold(), 0) >= COMMON * 10

    def known(self, word: str) -> bool:
        """Whether the word is in the lists at all (Zipf >= 3)."""
        return word.casefold() in self.tenths


@cache
def word_frequencies() -> WordFrequencies:
    """The merged lists, read once per process."""
    tenths: dict[str, int] = {}
    try:
        version = metadata.version("wordfreq")
        for lang in LANGUAGES:
            # Bin i holds the words of frequency 10 ** (-i / 100), i.e. Zipf 9 - i / 100.
            for i, words in enumerate(_cb_bins(lang)):
                value = 90 - (i + 5) // 10
                for word in words:
                    if value > tenths.get(word, 0):
                        tenths[word] = value
    except (metadata.PackageNotFoundError, ImportError):
        return WordFrequencies(MappingProxyType({}), None)
    return WordFrequencies(MappingProxyType(tenths), f"wordfreq {version}")


def _cb_bins(lang: str) -> list[list[str]]:
    """The "small" list of ``lang`` as frequency bins, one per centibel (header dropped).

    Read straight from the package's data file (the cBpack format its README
    documents) so that neither ``wordfreq`` nor its language-tag tables are
    imported; through its public API when the file is not where it used to be.
    """
    path = resources.files("wordfreq") / "data" / f"small_{lang}.msgpack.gz"
    if path.is_file():
        msgpack: Any = importlib.import_module("msgpack")
        with path.open("rb") as raw, gzip.open(raw, "rb") as data:
            pack: list[Any] = msgpack.load(data, raw=False, strict_map_key=False)
        return [list(words) for words in pack[1:]]
    wordfreq: Any = importlib.import_module("wordfreq")
    return [list(words) for words in wordfreq.get_frequency_list(lang, wordlist="small")]
