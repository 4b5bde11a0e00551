"""The fast encode and decode paths give exactly the bytes and the verdicts of the JSON
paths they shortcut: for valid entries, and for any edit of their canonical bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.ledger.entries import PaymentEntry

HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
WORD = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
INT64 = 2**63


@st.composite
def entries(draw: st.DrawFn) -> PaymentEntry:
    kind = draw(st.sampled_from(["earning", "bonus", "correction", "payout"]))
    amount = draw(st.integers(1, INT64 - 1))
    if kind == "correction" and draw(st.booleans()):
        amount = -amount
    item: str | None = None
    if kind == "earning" or (kind != "payout" and draw(st.booleans())):
        item = draw(HEX)
    return PaymentEntry(
        kind=kind,  # type: ignore[arg-type]
        contributor=draw(HEX),
        amount_minor=amount,
        currency=draw(st.from_regex(r"[A-Z]{3}", fullmatch=True)),
        rule=".".join(draw(st.lists(WORD, min_size=1, max_size=3))),
        rate_card_version=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)),
        timestamp=draw(st.integers(0, INT64 - 1)),
        item=item,
        corrects=draw(st.integers(0, INT64 - 1)) if kind == "correction" else None,
    )


def _verdict(decode: Any, data: bytes) -> PaymentEntry | str:
    try:
        entry: PaymentEntry = decode(data)
    except InvalidInput as exc:
        return exc.message
    return entry


@settings(max_examples=300, deadline=None)
@given(entries())
def test_fast_encoding_is_the_json_encoding(entry: PaymentEntry) -> None:
    data = entry.encode()
    assert data == entry._encode_json()
    assert PaymentEntry.decode(data) == entry == PaymentEntry._decode_json(data)


@settings(max_examples=500, deadline=None)
@given(entries(), st.data())
def test_fast_decoding_agrees_with_json_decoding_on_edited_bytes(
    entry: PaymentEntry, data: st.DataObject
) -> None:
    raw = bytearray(entry.encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = data.draw(st.sampled_from(b' "-.019:,{}\\anuEZ\x00\xff'))
        if edit == "insert":
            raw.insert(at, byte)
        elif at < len(raw):
            if edit == "replace":
                raw[at] = byte
            else:
                del raw[at]
    edited = bytes(raw)
    assert _verdict(PaymentEntry.decode, edited) == _verdict(PaymentEntry._decode_json, edited)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b'"amount_minor":250', b'"amount_minor":0250'),  # leading zero
        (b'"amount_minor":250', b'"amount_minor":-0'),  # not a canonical zero (and not > 0)
        (b'"amount_minor":250', b'"amount_minor":250.0'),  # a float
        (b'"rule":"label.accepted"', b'"rule":"label\\u002eaccepted"'),  # an escape
        (b'"version":1', b'"version":2'),
        (b'"timestamp":1718000000', b'"timestamp":1718000000,"timestamp":1718000000'),
    ],
)
def test_non_canonical_bytes_are_refused_with_the_json_paths_reason(
    before: bytes, after: bytes
) -> None:
    from tests.ledger.test_entries import EXPECTED_BYTES

    edited = EXPECTED_BYTES.replace(before, after)
    assert edited != EXPECTED_BYTES
    with pytest.raises(InvalidInput) as raised:
        PaymentEntry.decode(edited)
    assert _verdict(PaymentEntry._decode_json, edited) == raised.value.message


def _edited(before: bytes, after: bytes) -> bytes:
    from tests.ledger.test_entries import EXPECTED_BYTES

    assert before in EXPECTED_BYTES
    return EXPECTED_BYTES.replace(before, after)


AMOUNT = b'"amount_minor":250'


@pytest.mark.parametrize(
    "data",
    [
        _edited(AMOUNT, b'"amount_minor":%d' % value)
        for value in (-(2**63), -(2**63) + 1, 2**63 - 1, 2**63, 0, -1, 10**30)
    ]
    + [
        _edited(b'"timestamp":1718000000', b'"timestamp":%d' % value)
        for value in (0, 2**63 - 1, 2**63)
    ]
    + [_edited(b'"rule":"label.accepted"', b'"rule":"%s"' % (b"a" * n)) for n in (64, 65)]
    + [
        _edited(b'"rate_card_version":"2024-06"', b'"rate_card_version":"%s"' % (b"v" * n))
        for n in (64, 65)
    ]
    + [
        _edited(b'"kind":"earning"', b'"kind":"%s"' % kind)
        for kind in (b"bonus", b"payout", b"correction", b"refund")
    ]
    + [
        _edited(b'"corrects":null', b'"corrects":%d' % value).replace(
            b'"kind":"earning"', b'"kind":"correction"'
        )
        for value in (0, 2**63 - 1, 2**63)
    ]
    + [
        _edited(AMOUNT, b'"amount_minor":%d' % value)
        .replace(b'"corrects":null', b'"corrects":1')
        .replace(b'"kind":"earning"', b'"kind":"correction"')
        for value in (-(2**63), -(2**63) + 1, 0)
    ],
)
def test_boundaries_get_the_json_paths_verdict(data: bytes) -> None:
    assert _verdict(PaymentEntry.decode, data) == _verdict(PaymentEntry._decode_json, data)


def test_an_earning_without_item_and_a_payout_with_one_are_refused_alike() -> None:
    from tests.ledger.test_entries import ITEM

    no_item = _edited(b'"item":"' + ITEM.encode() + b'"', b'"item":null')
    payout = _edited(b'"kind":"earning"', b'"kind":"payout"')
    bonus = _edited(b'"kind":"earning"', b'"kind":"bonus"').replace(
        b'"corrects":null', b'"corrects":3'
    )
    for data in (no_item, payout, bonus):
        verdict = _verdict(PaymentEntry.decode, data)
        assert isinstance(verdict, str)
        assert verdict == _verdict(PaymentEntry._decode_json, data)
