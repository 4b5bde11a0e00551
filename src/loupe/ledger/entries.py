"""Payment entries as canonical, versioned leaf bytes that hold no personal data.

Each entry is one leaf of the payment log. Its bytes are **canonical JSON**: an object
with every field present (``null`` when unused), keys sorted, no whitespace, ASCII only,
integers only (amounts in minor units, timestamps in UTC seconds), no floats. Every
string field is restricted to a small ASCII alphabet, so no JSON escape can ever occur and
one entry has exactly one encoding. :meth:`PaymentEntry.decode` re-encodes what it parsed
and rejects any input that differs by a single byte, so a leaf's hash pins its meaning.

Version 1, with an example::

    {"amount_minor":250,"contributor":"<64 hex>","corrects":null,"currency":"EUR",
     "item":"<64 hex>","kind":"earning","rate_card_version":"2024-06",
     "rule":"label.accepted","timestamp":1718000000,"version":1}

* ``contributor``: :func:`contributor_pseudonym`, an HMAC-SHA-256 of the user id under the
  ledger secret; ``item``: :func:`item_digest`, likewise for the item id. Without the
  secret neither can be linked back to a person or an item.
* ``kind``: ``earning`` and ``bonus`` credit a positive amount, ``payout`` records a
  positive amount paid out, ``correction`` carries a signed non-zero amount and the index
  of the entry it corrects (``corrects``). Entries are never edited; they are corrected.

Example::

    >>> secret = b"s" * 32
    >>> entry = PaymentEntry(kind="earning", contributor=contributor_pseudonym("42", secret=secret),
    ...     item=item_digest("item-7", secret=secret), amount_minor=250, currency="EUR",
    ...     rule="label.accepted", rate_card_version="2024-06", timestamp=1718000000)
    >>> PaymentEntry.decode(entry.encode()) == entry
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NoReturn, get_args

from loupe.errors import InvalidInput
from loupe.ledger.verify import hash_leaf

__all__ = [
    "ENTRY_VERSION",
    "MAX_ENTRY_BYTES",
    "MIN_SECRET_BYTES",
    "EntryKind",
    "PaymentEntry",
    "contributor_pseudonym",
    "item_digest",
    "utc_seconds",
]

ENTRY_VERSION = 1
MIN_SECRET_BYTES = 32
EntryKind = Literal["earning", "bonus", "correction", "payout"]

_KINDS: frozenset[str] = frozenset(get_args(EntryKind))
_FIELDS = frozenset(
    {
        "amount_minor",
        "contributor",
        "corrects",
        "currency",
        "item",
        "kind",
        "rate_card_version",
        "rule",
        "timestamp",
        "version",
    }
)
_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_RULE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\Z")
_RATE_CARD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_MAX_TEXT = 64
# The canonical encoding of an entry whose fields all pass the checks above, key by key:
# the fast path of PaymentEntry.decode. Whatever it accepts (and the constructor then
# validates) re-encodes to exactly the same bytes, so the JSON parse and re-encode are
# needed only for bytes it does not match (and to name what is wrong with them).
_CANONICAL = re.compile(
    r'\{"amount_minor":(0|-?[1-9][0-9]*),'
    r'"contributor":"([0-9a-f]{64})",'
    r'"corrects":(null|0|[1-9][0-9]*),'
    r'"currency":"([A-Z]{3})",'
    r'"item":(null|"[0-9a-f]{64}"),'
    r'"kind":"(earning|bonus|correction|payout)",'
    r'"rate_card_version":"([A-Za-z0-9][A-Za-z0-9._-]*)",'
    r'"rule":"([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)",'
    r'"timestamp":(0|[1-9][0-9]*),'
    r'"version":1\}\Z'
)
_INT64 = 2**63  # amounts, timestamps and indices fit a signed 64-bit database column
# The longest canonical entry (every text field at its limit, every integer at its widest)
# is 465 bytes. Anything much longer is refused before parsing: a leaf of 5,000
# digits or 100,000 nested brackets would otherwise end in a ValueError or RecursionError
# from the parser instead of InvalidInput.
MAX_ENTRY_BYTES = 1024


def _invalid(field: str, message: str) -> NoReturn:
    raise InvalidInput(message, details={"field": field})


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        _invalid(
            "secret",
            f"the ledger secret must be at least {MIN_SECRET_BYTES} random bytes "
            "(e.g. secrets.token_bytes(32))",
        )


def contributor_pseudonym(user_id: str, *, secret: bytes) -> str:
    """The contributor's ledger id: hex HMAC-SHA-256 of ``user_id`` under ``secret``."""
    _check_secret(secret)
    message = b"loupe.ledger.contributor.v1\x00" + user_id.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def item_digest(item_id: str, *, secret: bytes) -> str:
    """The item's ledger id: hex HMAC-SHA-256 of ``item_id`` under ``secret``.

    Keyed (not a bare hash) so sequential or guessable item ids cannot be enumerated.
    """
    _check_secret(secret)
    message = b"loupe.ledger.item.v1\x00" + item_id.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def utc_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch for a timezone-aware ``moment``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        _invalid("timestamp", "give a timezone-aware datetime, e.g. datetime.now(UTC)")
    return int(moment.timestamp() // 1)


def _check_int(field: str, value: object, *, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _invalid(field, f"{field} must be an integer, got {type(value).__name__}")
    if not low <= value < high:
        _invalid(field, f"{field} must be in [{low}, {high}), got {value}")


def _check_text(field: str, value: object, pattern: re.Pattern[str], hint: str) -> None:
    if not isinstance(value, str) or len(value) > _MAX_TEXT or not pattern.match(value):
        _invalid(field, f"{field} must be {hint}, got {value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class PaymentEntry:
    """One payment-log entry (version 1); immutable, validated on construction.

    See the module docstring for the fields and the canonical encoding. Entries are never
    edited: a mistake is fixed by appending a ``correction`` that names it in ``corrects``.
    """

    kind: EntryKind
    contributor: str
    amount_minor: int
    currency: str
    rule: str
    rate_card_version: str
    timestamp: int
    item: str | None = None
    corrects: int | None = None

    def __post_init__(self) -> None:
        kind, amount, item, corrects = self.kind, self.amount_minor, self.item, self.corrects
        if not isinstance(kind, str) or kind not in _KINDS:
            _invalid("kind", f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
        _check_text("contributor", self.contributor, _DIGEST, "64 lowercase hex digits")
        if item is not None:
            _check_text("item", item, _DIGEST, "64 lowercase hex digits or null")
        _check_int("amount_minor", amount, low=-_INT64 + 1, high=_INT64)
        _check_text("currency", self.currency, _CURRENCY, "an ISO 4217 code such as 'EUR'")
        _check_text("rule", self.rule, _RULE, "dotted lowercase words such as 'label.accepted'")
        _check_text(
            "rate_card_version",
            self.rate_card_version,
            _RATE_CARD,
            "letters, digits, '.', '_', '-'",
        )
        _check_int("timestamp", self.timestamp, low=0, high=_INT64)
        if corrects is not None:
            _check_int("corrects", corrects, low=0, high=_INT64)

        if kind == "correction":
            if corrects is None:
                _invalid("corrects", "a correction must name the index of the entry it corrects")
            if amount == 0:
                _invalid("amount_minor", "a correction must change the amount (non-zero)")
        else:
            if corrects is not None:
                _invalid("corrects", f"only corrections name a corrected entry, not {kind}")
            if amount <= 0:
                _invalid("amount_minor", f"a {kind} amount must be positive, got {amount}")
        if kind == "earning" and item is None:
            _invalid("item", "an earning must name the item (item_digest) it pays for")
        if kind == "payout" and item is not None:
            _invalid("item", "a payout covers a balance, not an item; leave item null")

    @property
    def balance_change(self) -> int:
        """The signed change to the contributor's balance: a payout debits its amount,
        every other kind adds its (for corrections, signed) amount.

        >>> secret = b"s" * 32
        >>> PaymentEntry(kind="payout", contributor=contributor_pseudonym("1", secret=secret),
        ...     amount_minor=30, currency="EUR", rule="payout", rate_card_version="payout-1",
        ...     timestamp=0).balance_change
        -30
        """
        return -self.amount_minor if self.kind == "payout" else self.amount_minor

    def _json_object(self) -> dict[str, object]:
        return {
            "amount_minor": self.amount_minor,
            "contributor": self.contributor,
            "corrects": self.corrects,
            "currency": self.currency,
            "item": self.item,
            "kind": self.kind,
            "rate_card_version": self.rate_card_version,
            "rule": self.rule,
            "timestamp": self.timestamp,
            "version": ENTRY_VERSION,
        }

    def encode(self) -> bytes:
        """The canonical leaf bytes (sorted-key, whitespace-free, ASCII JSON)."""
        amount, corrects, item, stamp = self.amount_minor, self.corrects, self.item, self.timestamp
        if type(amount) is int and type(stamp) is int and _plain_text(self):
            # Every text field matched a pattern of letters, digits, '.', '_' and '-', so
            # JSON writes it as is: the same bytes as json.dumps below, without building a
            # dict and an encoder per entry (the append path's largest cost).
            text = _TEMPLATE % (
                amount,
                self.contributor,
                "null" if corrects is None else str(corrects),
                self.currency,
                "null" if item is None else f'"{item}"',
                self.kind,
                self.rate_card_version,
                self.rule,
                stamp,
            )
            return text.encode("ascii")
        return self._encode_json()

    def _encode_json(self) -> bytes:
        return json.dumps(
            self._json_object(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")

    def leaf_hash(self) -> bytes:
        """The RFC 6962 leaf hash of :meth:`encode`."""
        return hash_leaf(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> PaymentEntry:
        """Parse canonical leaf bytes; reject anything that is not byte-for-byte canonical."""
        if not isinstance(data, bytes | bytearray):
            _invalid("entry", f"a ledger entry is bytes, got {type(data).__name__}")
        if len(data) > MAX_ENTRY_BYTES:
            _invalid(
                "entry",
                f"ledger entry is {len(data)} bytes; a canonical entry is at most "
                f"{MAX_ENTRY_BYTES}",
            )
        # Latin-1 maps every byte to one character, so the (ASCII-only) pattern sees the
        # bytes exactly and never matches a non-ASCII one.
        found = _CANONICAL.match(data.decode("latin-1")) if isinstance(data, bytes) else None
        if found is None:
            return cls._decode_json(data)
        amount_, contributor, corrects_, currency, item_, kind, card, rule, stamp_ = found.groups()
        amount, stamp = int(amount_), int(stamp_)
        corrects = None if corrects_ == "null" else int(corrects_)
        item = None if item_ == "null" else item_[1:-1]
        # The pattern has checked every field's type and form; what is left of the
        # constructor's checks is lengths, ranges and the rules per kind. Anything they
        # refuse goes through the constructor, which names the problem.
        if (
            len(rule) <= _MAX_TEXT
            and len(card) <= _MAX_TEXT
            and -_INT64 < amount < _INT64
            and stamp < _INT64
            and _kind_rules_hold(kind, amount, item, corrects)
        ):
            entry = object.__new__(cls)
            put = object.__setattr__  # frozen: set each slot once, as __init__ would
            put(entry, "kind", kind)
            put(entry, "contributor", contributor)
            put(entry, "amount_minor", amount)
            put(entry, "currency", currency)
            put(entry, "rule", rule)
            put(entry, "rate_card_version", card)
            put(entry, "timestamp", stamp)
            put(entry, "item", item)
            put(entry, "corrects", corrects)
            return entry
        fields = {
            "kind": kind,
            "contributor": contributor,
            "amount_minor": amount,
            "currency": currency,
            "rule": rule,
            "rate_card_version": card,
            "timestamp": stamp,
            "item": item,
            "corrects": corrects,
        }
        return cls(**fields)  # type: ignore[arg-type]  # checks all, naming a bad field

    @classmethod
    def _decode_json(cls, data: bytes) -> PaymentEntry:
        """The general path: parse, check, and compare the re-encoding with ``data``."""
        try:
            text = data.decode("ascii")
            parsed = json.loads(
                text,
                object_pairs_hook=_unique_keys,
                parse_float=_no_float,
                parse_constant=_no_float,
            )
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            _invalid("entry", f"ledger entry is not canonical ASCII JSON: {exc}")
        if not isinstance(parsed, dict):
            _invalid("entry", "a ledger entry is a JSON object")
        if "version" in parsed and parsed["version"] != ENTRY_VERSION:
            _invalid(
                "version",
                f"entry version {parsed['version']!r} is not supported; "
                f"this code reads version {ENTRY_VERSION}",
            )
        keys = set(parsed)
        if keys != _FIELDS:
            missing, extra = sorted(_FIELDS - keys), sorted(keys - _FIELDS)
            _invalid("entry", f"entry fields differ: missing {missing}, unexpected {extra}")
        fields = {name: parsed[name] for name in _FIELDS if name != "version"}
        entry = cls(**fields)
        if entry.encode() != data:
            _invalid(
                "entry",
                "ledger entry is not in canonical form (sorted keys, no spaces, no escapes)",
            )
        return entry


def _kind_rules_hold(kind: str, amount: int, item: str | None, corrects: int | None) -> bool:
    """The constructor's rules per kind, for the decoder's fast path (``corrects`` is
    non-negative by the canonical pattern)."""
    if kind == "correction":
        return corrects is not None and corrects < _INT64 and amount != 0
    if corrects is not None or amount <= 0:
        return False
    if kind == "earning":
        return item is not None
    return kind != "payout" or item is None


_TEMPLATE = (
    '{"amount_minor":%d,"contributor":"%s","corrects":%s,"currency":"%s","item":%s,'
    '"kind":"%s","rate_card_version":"%s","rule":"%s","timestamp":%d,"version":1}'
)


def _plain_text(entry: PaymentEntry) -> bool:
    """Whether every text field is a plain ``str`` (validated, so it needs no escaping)."""
    return (
        type(entry.contributor) is str
        and type(entry.currency) is str
        and type(entry.kind) is str
        and type(entry.rule) is str
        and type(entry.rate_card_version) is str
        and (entry.item is None or type(entry.item) is str)
        and (entry.corrects is None or type(entry.corrects) is int)
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_float(value: str) -> NoReturn:
    raise ValueError(f"non-integer number {value}; amounts are integer minor units")
