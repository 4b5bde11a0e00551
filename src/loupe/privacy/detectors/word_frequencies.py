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
about 150,000 distinct words over the five languages, read from the installed
package (nothing is downloaded) and written once to a memory-mapped
:mod:`~loupe.privacy.detectors.lexicon` file that every process shares (about
40 MB of Python objects per process otherwise). Without it only
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
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loupe.privacy.detectors import lexicon

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

    tenths: Mapping[str, int]  # word -> Zipf frequency x 10
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
    """The merged lists, mapped from the shared lexicon file (built on first use)."""
    try:
        version = metadata.version("wordfreq")
        spec = importlib.util.find_spec("wordfreq")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("wordfreq")
    except (metadata.PackageNotFoundError, ImportError, ValueError):
        return WordFrequencies(MappingProxyType({}), None)
    source = f"wordfreq {version}"
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    sources = {
        "wordfreq": version,
        "files": {lang: _size(data / f"small_{lang}.msgpack.gz") for lang in LANGUAGES},
        "code": lexicon.source_hash(__file__),
    }
    try:
        shared = lexicon.cached("words", sources, lambda: {"tenths": _merged()})
        if shared is None:  # the cache directory cannot be written: keep them in memory
            return WordFrequencies(MappingProxyType(_merged()), source)
    except ImportError:  # msgpack or wordfreq itself cannot be imported
        return WordFrequencies(MappingProxyType({}), None)
    return WordFrequencies(shared.values("tenths"), source)


def _merged() -> dict[str, int]:
    """Word -> the highest Zipf frequency x 10 over :data:`LANGUAGES`."""
    tenths: dict[str, int] = {}
    for lang in LANGUAGES:
        # Bin i holds the words of frequency 10 ** (-i / 100), i.e. Zipf 9 - i / 100.
        for i, words in enumerate(_cb_bins(lang)):
            value = 90 - (i + 5) // 10
            for word in words:
                if value > tenths.get(word, 0):
                    tenths[word] = value
    return tenths


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


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
