"""Error messages name the value they refuse, but never an identifier in it."""

from __future__ import annotations

import pytest

from loupe.privacy.messages import redact_details, redact_message

EMAIL = "canary.fox@example.org"
PHONE = "+44 20 7946 0958"


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (f"line 2: language must be a tag such as 'en', got '{EMAIL}'", "got '[EMAIL]'"),
        (f"line 2: domain must be a lower-case tag, got '{PHONE}'", "got '[PHONE]'"),
        (f"answer: 'ring Maria Schmidt on {PHONE}' is not a label", "'ring [PERSON] on [PHONE]'"),
        (f"{EMAIL}: Extra inputs are not permitted", "[EMAIL]: Extra inputs"),
    ],
)
def test_identifiers_a_message_echoes_are_replaced(message: str, shown: str) -> None:
    out = redact_message(message)
    assert shown in out
    assert EMAIL not in out and "7946" not in out and "Schmidt" not in out


@pytest.mark.parametrize(
    "message",
    [
        "items.jsonl: line 5001: field 'text' must be a non-empty string",
        "/tmp/x/loupe.db is not a SQLite database: set LOUPE_DATABASE_URL to Loupe's database",
        "project 12 has no gold set to evaluate on; mark held-out items with `loupe gold set`",
        "image too large (8000x8000 = 64,000,000 pixels; at most 50,000,000 pixels)",
        "see https://example.org/docs/import for the format, fixed on 2025-01-01",
    ],
)
def test_the_messages_own_prose_is_left_alone(message: str) -> None:
    assert redact_message(message) == message


def test_details_are_redacted_through_objects_and_lists() -> None:
    details = {"field": f"metadata.{EMAIL}", "errors": [{"message": f"got '{PHONE}'"}], "n": 3}
    assert redact_details(details) == {
        "field": "[EMAIL]",  # an e-mail address may hold dots: the path is one
        "errors": [{"message": "got '[PHONE]'"}],
        "n": 3,
    }
