"""Plain-SQL statements about the ``ledger_nodes`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query

# Statements of the payment log bind ``?`` by position: they run through
# loupe.services.payments.ledger_store, which speaks ``?`` on both databases.

INSERT_LEDGER_NODE = "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)"


class LedgerNode(NamedTuple):
    level: int
    idx: int
    hash: bytes


# PostgreSQL only (psycopg's own ``%s``): the keys as two arrays, joined to the primary key:
# a nested loop of point lookups whatever the number of keys, and one statement text, so
# psycopg prepares it once. (A row-value ``IN`` list was planned as a BitmapOr of one index
# scan per key, ~1.6 ms per proof at 1M entries, growing with the tree.)
LEDGER_NODES_BY_KEY_ARRAYS = Query(
    "SELECT n.level, n.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
    "JOIN ledger_nodes n ON n.level = k.level AND n.idx = k.idx",
    LedgerNode,
)
# SQLite: one point lookup; ledger_store joins n of them with UNION ALL (rows: LedgerNode).
LEDGER_NODE_AT = "SELECT level, idx, hash FROM ledger_nodes WHERE level = ? AND idx = ?"


class TopLevel(NamedTuple):
    level: int | None  # None: no nodes yet


LEDGER_TOP_LEVEL = Query("SELECT max(level) FROM ledger_nodes", TopLevel)


class LevelNode(NamedTuple):
    idx: int
    hash: bytes


LEVEL_NODES_AFTER = Query(
    "SELECT idx, hash FROM ledger_nodes WHERE level = ? AND idx > ? ORDER BY idx LIMIT ?",
    LevelNode,
)
