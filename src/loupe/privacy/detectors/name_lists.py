"""The name lists the person recognizer consults, built once on first use.

Loupe's own hand-written lists (:mod:`~loupe.privacy.detectors.gazetteer`) are
merged with the per-locale first- and last-name lists that ship inside the
``faker`` package (MIT licence) when it is installed: about 10,000 given names
and 16,000 family names across the locales in :data:`FAKER_LOCALES`, read from
the installed package's modules (nothing is downloaded) and written once to a
memory-mapped :mod:`~loupe.privacy.detectors.lexicon` file that every process
shares, so that neither faker's modules nor the sets stay in each worker. Without
``faker`` the hand-written lists are used alone and names are found from context
more often than from the lists.

A name that is also an everyday word ("Page", "Can", "Long"; taken from faker's
lorem word lists) or a place (its city, state and country lists: "Austin",
"Georgia", "Victoria") is *ambiguous*: it counts as a name only with more
evidence (a second name word, a title or a cue).

>>> lists = name_lists()
>>> "Maria" in lists.given and "Schmidt" in lists.family
True
>>> "Victoria" in lists.ambiguous
True
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields
from functools import cache
from importlib import metadata
from typing import Any

from loupe.privacy.detectors import gazetteer, lexicon
from loupe.privacy.detectors.gazetteer import (
    AMBIGUOUS_GIVEN,
    CJK_GIVEN_CHARS,
    CJK_SURNAMES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    NOT_NAMES,
    ORG_WORDS,
    PLACE_WORDS,
)

__all__ = ["FAKER_LOCALES", "NameLists", "name_lists"]

# Latin-script locales whose names Loupe's users are likely to meet, plus Chinese.
FAKER_LOCALES: tuple[str, ...] = (
    "en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "en_PK", "en_NG", "de_DE", "de_AT", "de_CH",
    "fr_FR", "fr_CH", "fr_QC", "es_ES", "es_MX", "es_CO", "es_AR", "it_IT", "pt_PT", "pt_BR",
    "nl_NL", "nl_BE", "pl_PL", "tr_TR", "sv_SE", "da_DK", "no_NO", "fi_FI", "cs_CZ", "sk_SK",
    "ro_RO", "hu_HU", "hr_HR", "sl_SI", "ga_IE", "id_ID", "vi_VN", "zh_CN", "zh_TW",
)  # fmt: skip
_CJK_LOCALES = frozenset({"zh_CN", "zh_TW"})
_COMMON_WORD_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "la")
# Everyday words that are written capitalised mid-sentence (German nouns) or open a
# sentence in the languages most traffic is in make a name ambiguous; a French or
# Spanish word ("pierre", "sean") is lower-case wherever it is not the name.
_AMBIGUOUS_WORD_LOCALES = ("en_US", "de_DE")
_PLACE_LISTS = ("cities", "city_names", "countries", "states", "regions", "departments")
_NAME_TOKEN = re.compile(r"[^\W\d_]{2,}(?:['\u2019\-][^\W\d_]+)*")


@dataclass(frozen=True, slots=True)
class NameLists:
    """Given and family names (Latin script), Chinese surnames and given-name characters.

    ``ambiguous`` names are also everyday words or places; ``common`` holds everyday
    words (lower-case) in the shipped languages; ``places`` the names of cities,
    regions and countries, one or more words each ("Lyon", "San Sebastián");
    ``sources`` says where the lists came from (``"loupe"``, and ``"faker <version>"``
    when it was read).
    """

    given: AbstractSet[str]
    family: AbstractSet[str]
    ambiguous: AbstractSet[str]
    common: AbstractSet[str]
    places: AbstractSet[str]
    cjk_surnames: AbstractSet[str]
    cjk_given_chars: AbstractSet[str]
    sources: tuple[str, ...]


_TABLES = tuple(f.name for f in fields(NameLists) if f.name != "sources")


@cache
def name_lists() -> NameLists:
    """The merged lists, mapped from the shared lexicon file (built on first use)."""
    try:
        version = metadata.version("faker")
        if importlib.util.find_spec("faker") is None:
            raise ImportError("faker")
    except (metadata.PackageNotFoundError, ImportError, ValueError):
        return _build()  # Loupe's own lists: small, and already in memory
    sources = {"faker": version, "code": lexicon.source_hash(__file__, gazetteer.__file__)}

    def tables() -> dict[str, AbstractSet[str]]:
        built = _build()
        if len(built.sources) < 2:
            raise ValueError("faker could not be read")  # not worth a file
        return {name: getattr(built, name) for name in _TABLES}

    shared = lexicon.cached("names", sources, tables)
    if shared is None:  # the cache directory cannot be written: keep them in memory
        return _build()
    lists = {name: shared.words(name) for name in _TABLES}
    return NameLists(**lists, sources=("loupe", f"faker {version}"))


def _build() -> NameLists:
    """Merge Loupe's lists with faker's, when it can be imported (about 0.15 s)."""
    try:
        faker = importlib.import_module("faker")
    except ImportError:
        faker = None
    given, family = set(GIVEN_NAMES), set(FAMILY_NAMES)
    cjk_surnames, cjk_chars = set(CJK_SURNAMES), set(CJK_GIVEN_CHARS)
    sources = ["loupe"]
    common: set[str] = set()
    capitalised_common: set[str] = set()
    places: set[str] = set()
    if faker is not None:
        sources.append(f"faker {getattr(faker, 'VERSION', '?')}")
        for locale in FAKER_LOCALES:
            person = _provider("person", locale)
            if person is None:
                continue
            firsts = _values(person, "first_names")
            lasts = _values(person, "last_names")
            if locale in _CJK_LOCALES:
                cjk_surnames.update(s for s in lasts if 1 <= len(s) <= 2 and _all_cjk(s))
                cjk_chars.update(ch for name in firsts if _all_cjk(name) for ch in name)
                continue
            given.update(_latin_names(firsts))
            family.update(_latin_names(lasts))
        for locale in _COMMON_WORD_LOCALES:
            lorem = _provider("lorem", locale)
            if lorem is not None:
                words = {w.lower() for w in getattr(lorem, "word_list", ())}
                common |= words
                if locale in _AMBIGUOUS_WORD_LOCALES:
                    capitalised_common |= words
        for locale in FAKER_LOCALES:
            address = _provider("address", locale)
            if address is not None:
                for attr in _PLACE_LISTS:
                    places.update(_strings(getattr(address, attr, ())))
    stop = NOT_NAMES | ORG_WORDS | PLACE_WORDS
    given -= stop
    family -= stop
    ambiguous = set(AMBIGUOUS_GIVEN)
    ambiguous.update(n for n in given | family if n.lower() in capitalised_common or n in places)
    return NameLists(
        given=frozenset(given),
        family=frozenset(family),
        ambiguous=frozenset(ambiguous),
        common=frozenset(common),
        places=frozenset(places),
        cjk_surnames=frozenset(cjk_surnames),
        cjk_given_chars=frozenset(cjk_chars),
        sources=tuple(sources),
    )


def _provider(kind: str, locale: str) -> Any:
    try:
        return importlib.import_module(f"faker.providers.{kind}.{locale}").Provider
    except (ImportError, AttributeError):
        return None


def _values(provider: Any, prefix: str) -> set[str]:
    """Every name in the provider's ``prefix*`` lists (plain, male, female, ...)."""
    out: set[str] = set()
    for attr in dir(provider):
        if attr.startswith(prefix) and not attr.startswith(f"{prefix}_romanized"):
            out.update(_strings(getattr(provider, attr)))
    return out


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, dict):
        value = value.keys()
    if isinstance(value, (list, tuple, set, frozenset, type({}.keys()))):
        return (v for v in value if isinstance(v, str))
    return ()


def _latin_names(names: Iterable[str]) -> Iterable[str]:
    """Single-word names written like a name ("Anne-Marie", "O'Neil"), not "DE LA" or "y"."""
    for name in names:
        if _NAME_TOKEN.fullmatch(name) and name[0].isupper() and not name.isupper():
            yield name


def _all_cjk(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
