"""Identifiers in a tag: a category name such as an item's domain, read as a person would.

A tag is written without spaces or capitals (``ana-ruiz``, ``tel-02079460958``), which
hides what it holds from detectors that look for words and capitalised names. So a tag
is scanned as given and as title-case words (``Ana Ruiz``, ``Tel 02079460958``), and a
run of more than :data:`MAX_TAG_DIGITS` digits counts as a number on its own (a phone,
card or account number without its separators): no category name needs one.

A tag is not redacted but refused: it names a category shared by many items, routes them
and keys reputations, and ``[PHONE]`` would be neither the category nor a valid tag.
"""

from __future__ import annotations

import re
from functools import lru_cache

from loupe.privacy.scanner import Scanner
from loupe.privacy.spans import Detection

__all__ = [
    "MAX_TAG_DIGITS",
    "MIN_PERSON_SCORE",
    "identifiers_in_language_tag",
    "identifiers_in_tag",
]

MAX_TAG_DIGITS = 5  # "iso27001", "icd10" and "y2024" are categories; "x447946095800" is not
# A tag is short and written without capitals, so the evidence a name has in running text
# is missing or made up here: a word after a calling verb that is also a name
# ("ring-tone", "phone-bill", "tell-joke"), capitals we added that make "Ask Price" a cue
# and a name, two words that lists of family names happen to hold ("Smart Glasses"). A
# name counts when the detector is sure (this score) of two or more words ("ana-ruiz").
MIN_PERSON_SCORE = 0.85
_NUMBER = re.compile(f"[0-9]{{{MAX_TAG_DIGITS + 1},}}")
_SEPARATORS = re.compile(r"[-_]+")


@lru_cache(maxsize=1)
def _scanner() -> Scanner:
    return Scanner()


# Tags repeat across an import's rows: each distinct one is scanned once.
@lru_cache(maxsize=4096)
def identifiers_in_tag(tag: str) -> tuple[str, ...]:
    """The identifier types found in ``tag``, sorted (``UNCHECKED`` when a scan failed,
    ``NUMBER`` for a long run of digits the detectors name no type for); ``()`` when it
    is a plain category name.

    >>> identifiers_in_tag("customer-support")
    ()
    >>> identifiers_in_tag("ana-ruiz"), identifiers_in_tag("tel-02079460958")
    (('PERSON',), ('PHONE',))
    >>> identifiers_in_tag("x447946095800")
    ('NUMBER',)
    """
    return _identifiers(tag, codes=False)


@lru_cache(maxsize=1024)
def identifiers_in_language_tag(tag: str) -> tuple[str, ...]:
    """:func:`identifiers_in_tag` for a language tag. A tag whose every subtag is in the
    IANA language subtag registry (``pt-BR``, ``kok-Hans``, ``sr-Latn-RS``; checked by
    ``langcodes``, which ships the registry) is a language: title-cased, "vi-VN" or
    "Kok Hans" read like names. Others ("en-UK", "ana-ruiz") are scanned, and there
    subtags of two or three letters count as codes: a person needs a longer word.

    >>> identifiers_in_language_tag("kok-Hans"), identifiers_in_language_tag("ana-ruiz")
    ((), ('PERSON',))
    >>> identifiers_in_language_tag("tel-020-7946-0958"), identifiers_in_language_tag("en-UK")
    (('PHONE',), ())
    """
    import langcodes  # the registry is read on first use

    if langcodes.tag_is_valid(tag):
        return ()
    return _identifiers(tag, codes=True)


def _identifiers(tag: str, *, codes: bool) -> tuple[str, ...]:
    found: set[str] = set()
    words = _SEPARATORS.sub(" ", tag).title()
    for view in dict.fromkeys((tag, words)):
        scan = _scanner().scan(view)
        if scan.verdict != "show":
            found.add("UNCHECKED")
        found.update(
            span.type
            for span in scan.spans
            if span.type != "PERSON"
            or _full_name(view, span, capitalised=view is words, codes=codes)
        )
    if not found and _NUMBER.search(tag):
        found.add("NUMBER")
    return tuple(sorted(found))


def _full_name(view: str, span: Detection, *, capitalised: bool, codes: bool) -> bool:
    """Whether a PERSON span in a tag counts: a sure detection of at least two words (and,
    among ``codes``, one longer than a code)."""
    words = view[span.start : span.end].split()
    if codes and all(len(word) <= 3 for word in words):
        return False
    return span.score >= MIN_PERSON_SCORE and (len(words) >= 2 or not capitalised)
