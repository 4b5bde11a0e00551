"""Plain-SQL statements about the ``ledger_checkpoints`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query

# Statements of the payment log bind ``?`` by position: they run through
# loupe.services.payments.ledger_store, which speaks ``?`` on both databases.


class NewCheckpoint(NamedTuple):
    id: int


INSERT_LEDGER_CHECKPOINT = Query(
    "INSERT INTO ledger_checkpoints (size, root_hash, note, key_name, key_hash, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    NewCheckpoint,
)


class StoredCheckpoint(NamedTuple):
    id: int
    size: int
    root_hash: bytes
    note: str
    key_name: str
    key_hash: int
    created_at: Any  # SQLite: text; PostgreSQL: datetime


LATEST_CHECKPOINT = Query(
    "SELECT id, size, root_hash, note, key_name, key_hash, created_at FROM ledger_checkpoints "
    "ORDER BY id DESC LIMIT 1",
    StoredCheckpoint,
)
ALL_CHECKPOINTS = Query(
    "SELECT id, size, root_hash, note, key_name, key_hash, created_at FROM ledger_checkpoints "
    "ORDER BY id",
    StoredCheckpoint,
)


class CheckpointNote(NamedTuple):
    note: str


CHECKPOINT_NOTE = Query("SELECT note FROM ledger_checkpoints WHERE id = ?", CheckpointNote)
SET_CHECKPOINT_NOTE = "UPDATE ledger_checkpoints SET note = ? WHERE id = ?"
