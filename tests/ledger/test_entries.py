"""Payment entries: one canonical encoding, no personal data, corrections not edits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.ledger.entries import (
    EntryKind,
    PaymentEntry,
    contributor_pseudonym,
    item_digest,
    utc_seconds,
)
from loupe.ledger.verify import hash_leaf

SECRET = bytes(range(32))
ALICE = contributor_pseudonym("alice@example.org", secret=SECRET)
ITEM = item_digest("item-42", secret=SECRET)

EXPECTED_BYTES = (
    b'{"amount_minor":250,"contributor":"' + ALICE.encode() + b'","corrects":null,'
    b'"currency":"EUR","item":"' + ITEM.encode() + b'","kind":"earning",'
    b'"rate_card_version":"2024-06","rule":"label.accepted","timestamp":1718000000,'
    b'"version":1}'
)


def earning(**changes: Any) -> PaymentEntry:
    fields: dict[str, Any] = {
        "kind": "earning",
        "contributor": ALICE,
        "item": ITEM,
        "amount_minor": 250,
        "currency": "EUR",
        "rule": "label.accepted",
        "rate_card_version": "2024-06",
        "timestamp": 1718000000,
    }
    fields.update(changes)
    return PaymentEntry(**fields)


def test_known_encoding() -> None:
    entry = earning()
    assert entry.encode() == EXPECTED_BYTES
    assert PaymentEntry.decode(EXPECTED_BYTES) == entry
    assert entry.leaf_hash() == hash_leaf(EXPECTED_BYTES)


def test_pseudonyms_are_keyed_stable_and_domain_separated() -> None:
    assert contributor_pseudonym("alice@example.org", secret=SECRET) == ALICE
    assert len(ALICE) == 64
    assert contributor_pseudonym("alice@example.org", secret=SECRET[::-1]) != ALICE
    assert item_digest("alice@example.org", secret=SECRET) != ALICE
    with pytest.raises(InvalidInput, match="at least 32"):
        contributor_pseudonym("alice", secret=b"short")


def test_no_personal_data_in_the_leaf() -> None:
    data = earning().encode()
    assert b"alice" not in data
    assert b"item-42" not in data


hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
big = 2**63 - 1


@st.composite
def entries(draw: st.DrawFn) -> PaymentEntry:
    kinds: list[EntryKind] = ["earning", "bonus", "correction", "payout"]
    kind = draw(st.sampled_from(kinds))
    amount = draw(st.integers(min_value=1, max_value=big))
    if kind == "correction" and draw(st.booleans()):
        amount = -amount
    return PaymentEntry(
        kind=kind,
        contributor=draw(hex64),
        item=None if kind == "payout" else draw(hex64 if kind == "earning" else st.none() | hex64),
        amount_minor=amount,
        currency=draw(st.from_regex(r"[A-Z]{3}", fullmatch=True)),
        rule=draw(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}(\.[a-z][a-z0-9_]{0,10}){0,3}", fullmatch=True)
        ),
        rate_card_version=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)),
        timestamp=draw(st.integers(min_value=0, max_value=big)),
        corrects=draw(st.integers(min_value=0, max_value=big)) if kind == "correction" else None,
    )


@settings(max_examples=150, deadline=None)
@given(entries())
def test_round_trip_is_exact(entry: PaymentEntry) -> None:
    data = entry.encode()
    assert PaymentEntry.decode(data) == entry
    assert PaymentEntry.decode(data).encode() == data
    parsed = json.loads(data)
    assert list(parsed) == sorted(parsed)
    assert b" " not in data
    assert data.isascii()


@settings(max_examples=150, deadline=None)
@given(entries(), st.data())
def test_any_changed_byte_is_rejected_or_changes_the_entry(
    entry: PaymentEntry, pick: st.DataObject
) -> None:
    data = entry.encode()
    position = pick.draw(st.integers(0, len(data) - 1))
    byte = pick.draw(st.integers(0, 255).filter(lambda b: b != data[position]))
    changed = data[:position] + bytes([byte]) + data[position + 1 :]
    try:
        decoded = PaymentEntry.decode(changed)
    except InvalidInput:
        return
    assert decoded != entry
    assert decoded.encode() == changed


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (EXPECTED_BYTES.replace(b",", b", ", 1), "canonical form"),
        (EXPECTED_BYTES.replace(b":250,", b":250.0,"), "non-integer"),
        (EXPECTED_BYTES.replace(b":250,", b":2.5e2,"), "non-integer"),
        (EXPECTED_BYTES.replace(b":250,", b":NaN,"), "non-integer"),
        (EXPECTED_BYTES.replace(b":250,", b":true,"), "amount_minor must be an integer"),
        (EXPECTED_BYTES.replace(b":250,", b":-0,"), "amount must be positive"),
        (EXPECTED_BYTES.replace(b":250,", b":0250,"), "not canonical ASCII JSON"),
        (EXPECTED_BYTES.replace(b'"version":1', b'"version":2'), "version 2 is not supported"),
        (EXPECTED_BYTES.replace(b'"version":1}', b'"version":1,"version":1}'), "duplicate key"),
        (EXPECTED_BYTES.replace(b'"version":1}', b'"version":1,"name":"Al"}'), "unexpected"),
        (EXPECTED_BYTES.replace(b'"corrects":null,', b""), "missing \\['corrects'\\]"),
        (EXPECTED_BYTES.replace(b'"EUR"', b'"\\u0045UR"'), "canonical form"),
        (EXPECTED_BYTES.replace(b'"EUR"', b'"EU\xc3\x89"'), "ASCII"),
        (EXPECTED_BYTES + b"\n", "canonical form"),
        (b"[1,2]", "JSON object"),
        (EXPECTED_BYTES.replace(b'"earning"', b'["earning"]'), "kind must be one of"),
        (b"{", "not canonical ASCII JSON"),
        (
            b'{"version":1,' + EXPECTED_BYTES[1:].replace(b',"version":1', b""),
            "canonical form",
        ),
    ],
)
def test_non_canonical_bytes_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        PaymentEntry.decode(data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "tip"}, "kind"),
        ({"contributor": "alice@example.org"}, "contributor"),
        ({"contributor": ALICE.upper()}, "contributor"),
        ({"item": "item-42"}, "item"),
        ({"item": None}, "item"),
        ({"amount_minor": 0}, "amount_minor"),
        ({"amount_minor": -5}, "amount_minor"),
        ({"amount_minor": 2.5}, "amount_minor"),
        ({"amount_minor": 2**63}, "amount_minor"),
        ({"currency": "eur"}, "currency"),
        ({"rule": "Label Accepted"}, "rule"),
        ({"rule": "a" * 65}, "rule"),
        ({"rate_card_version": ""}, "rate_card_version"),
        ({"timestamp": -1}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"corrects": 3}, "corrects"),
        ({"kind": "correction"}, "corrects"),
        ({"kind": "correction", "corrects": 3, "amount_minor": 0}, "amount_minor"),
        ({"kind": "payout"}, "item"),
    ],
)
def test_invalid_fields_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        earning(**changes)
    assert caught.value.details == {"field": field}


def test_corrections_and_payouts() -> None:
    correction = earning(kind="correction", amount_minor=-250, corrects=7, rule="label.reverted")
    assert PaymentEntry.decode(correction.encode()).corrects == 7
    payout = earning(kind="payout", item=None, rule="payout.bank_transfer")
    assert PaymentEntry.decode(payout.encode()).item is None
    with pytest.raises(AttributeError):
        payout.amount_minor = 1  # type: ignore[misc]


def test_utc_seconds() -> None:
    moment = datetime(2024, 6, 10, 6, 13, 20, 999_999, tzinfo=UTC)
    assert utc_seconds(moment) == 1718000000
    assert utc_seconds(moment.astimezone(timezone(timedelta(hours=-7)))) == 1718000000
    with pytest.raises(InvalidInput, match="timezone-aware"):
        utc_seconds(datetime(2024, 6, 10))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # Thousands of digits: int() refuses more than 4,300 with a ValueError.
        (EXPECTED_BYTES.replace(b":250,", b":" + b"9" * 5000 + b","), "at most 1024"),
        (EXPECTED_BYTES.replace(b":1718000000,", b":" + b"9" * 5000 + b","), "at most 1024"),
        # Deep nesting: json.loads would raise RecursionError.
        (b"[" * 100_000, "at most 1024"),
        (b"[" * 1000, "not canonical ASCII JSON"),
        # Not bytes at all.
        (EXPECTED_BYTES.decode(), "is bytes, got str"),
        (None, "is bytes, got NoneType"),
    ],
)
def test_hostile_leaves_are_invalid_input_not_a_crash(data: Any, reason: str) -> None:
    """A tampered database leaf is named as not canonical (``loupe ledger verify`` reports
    it by position), never a ValueError or RecursionError out of the parser."""
    with pytest.raises(InvalidInput, match=reason):
        PaymentEntry.decode(data)


def test_the_longest_entry_fits_the_size_limit() -> None:
    widest = PaymentEntry(
        kind="correction",
        contributor=ALICE,
        item=ITEM,
        amount_minor=-(2**63) + 1,
        currency="EUR",
        rule="r" * 64,
        rate_card_version="v" * 64,
        timestamp=2**63 - 1,
        corrects=2**63 - 1,
    )
    assert PaymentEntry.decode(widest.encode()) == widest
