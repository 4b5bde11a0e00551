"""Plain-SQL statements about the ``ledger_entries`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query

# Statements of the payment log bind ``?`` by position: they run through
# loupe.services.payments.ledger_store, which speaks ``?`` on both databases.

INSERT_LEDGER_ENTRY = (
    "INSERT INTO ledger_entries (idx, kind, leaf, leaf_hash, user_id, project_id, label_id, "
    "payout_id, corrects, delta_minor, currency, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class EntryLeaf(NamedTuple):
    idx: int
    leaf: bytes
    leaf_hash: bytes


ENTRY_LEAVES_AFTER = Query(
    "SELECT idx, leaf, leaf_hash FROM ledger_entries WHERE idx > ? ORDER BY idx LIMIT ?",
    EntryLeaf,
)


class LeafHash(NamedTuple):
    leaf_hash: bytes


LEAF_HASH_AT = Query("SELECT leaf_hash FROM ledger_entries WHERE idx = ?", LeafHash)


class EntryColumns(NamedTuple):
    """A ``ledger_entries`` row with the user and item of its label (if any)."""

    idx: int
    leaf: bytes
    leaf_hash: bytes
    kind: str
    user_id: int | None
    project_id: int | None
    label_id: int | None
    payout_id: int | None
    corrects: int | None
    delta_minor: int
    currency: str
    created_at: Any  # SQLite: text; PostgreSQL: datetime
    label_user_id: int | None
    label_item_id: int | None


# Completed with ``WHERE ...`` conditions on ``e`` (ledger_store.iter_stored_matching).
ENTRY_COLUMNS = Query(
    "SELECT e.idx, e.leaf, e.leaf_hash, e.kind, e.user_id, e.project_id, e.label_id, "
    "e.payout_id, e.corrects, e.delta_minor, e.currency, e.created_at, l.user_id, l.item_id "
    "FROM ledger_entries e LEFT JOIN labels l ON l.id = e.label_id",
    EntryColumns,
)
ENTRY_COLUMNS_AFTER = Query(
    ENTRY_COLUMNS.sql + " WHERE e.idx > ? ORDER BY e.idx LIMIT ?", EntryColumns
)
ENTRY_COLUMNS_OF_USER = Query(
    ENTRY_COLUMNS.sql + " WHERE e.user_id = ? ORDER BY e.idx", EntryColumns
)
ENTRY_COLUMNS_OF_PAYOUT = Query(
    ENTRY_COLUMNS.sql + " WHERE e.payout_id = ? ORDER BY e.idx", EntryColumns
)
ENTRY_COLUMNS_OF_PROJECT_SINCE = Query(
    ENTRY_COLUMNS.sql + " WHERE e.project_id = ? AND e.created_at >= ? ORDER BY e.idx",
    EntryColumns,
)


class LabelEarned(NamedTuple):
    found: int


LABEL_HAS_ENTRY = Query("SELECT 1 FROM ledger_entries WHERE label_id = :label", LabelEarned)
