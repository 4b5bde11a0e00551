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

__all__ = ["MAX_TAG_DIGITS", "MIN_PERSON_SCORE", "identifiers_in_tag"]

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
    found: set[str] = set()
    words = _SEPARATORS.sub(" ", tag).title()
    for view in dict.fromkeys((tag, words)):
        scan = _scanner().scan(view)
        if scan.verdict != "show":
            found.add("UNCHECKED")
        found.update(
            span.type
            for span in scan.spans
            if span.type != "PERSON" or _full_name(view, span, capitalised=view is words)
        )
    if not found and _NUMBER.search(tag):
        found.add("NUMBER")
    return tuple(sorted(found))


def _full_name(view: str, span: Detection, *, capitalised: bool) -> bool:
    """Whether a PERSON span in a tag counts: a sure detection of at least two words."""
    words = view[span.start : span.end].split()
    return span.score >= MIN_PERSON_SCORE and (len(words) >= 2 or not capitalised)
