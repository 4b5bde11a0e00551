"""Identifiers in a tag (an item's domain): found as given, as words, and as long numbers."""

from __future__ import annotations

import pytest

from loupe.privacy.tags import identifiers_in_tag

# Category names used as domains, places and words that are also names among them.
CATEGORIES = [
    "general",
    "medical",
    "legal",
    "scientific",
    "customer-support",
    "finance",
    "smart-home",
    "smart-glasses",
    "voice-assistant",
    "navigation",
    "payments",
    "music",
    "translation",
    "photos",
    "messaging",
    "shopping",
    "calls",
    "tell-joke",
    "tell-story",
    "ring-tone",
    "phone-bill",
    "ping-server",
    "ask-price",
    "message-mark",
    "e-commerce",
    "it-support",
    "real-estate",
    "law_enforcement",
    "radiology",
    "payroll",
    "iso27001",
    "icd10",
    "y2024",
    "covid-19",
    "jordan",
    "paris",
    "georgia",
    "victoria",
    "florence",
    "austin",
    "madison",
    "sydney",
]


@pytest.mark.parametrize("tag", CATEGORIES)
def test_a_category_name_holds_no_identifier(tag: str) -> None:
    assert identifiers_in_tag(tag) == ()


@pytest.mark.parametrize(
    ("tag", "found"),
    [
        # A name, seen once the tag is read as title-case words.
        ("ana-ruiz", ("PERSON",)),
        ("maria_garcia", ("PERSON",)),
        # Found as given, or once the separators are spaces.
        ("tel-02079460958", ("PHONE",)),
        ("calls-ana-ruiz-447946095800", ("PERSON", "PHONE")),
        ("card-4111111111111111", ("CREDIT_CARD",)),
        ("gb82west12345698765432", ("IBAN",)),
        ("nhs-9434765919", ("MEDICAL_RECORD_NUMBER",)),
        # A number the detectors cannot place without its separators.
        ("x447946095800", ("NUMBER",)),
        ("acct-123456", ("ACCOUNT_NUMBER",)),
        ("zone-123456", ("NUMBER",)),
    ],
)
def test_an_identifier_in_a_tag_is_found(tag: str, found: tuple[str, ...]) -> None:
    assert identifiers_in_tag(tag) == found
