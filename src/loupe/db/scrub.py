"""Scrub deleted rows from the database's files, after the transaction that deleted them.

SQLite runs with ``secure_delete=ON`` (:mod:`loupe.db.engine`): deleted cells and freed
pages are overwritten with zeros in the pages a transaction writes. Those pages first go
to the write-ahead log, whose older frames still hold the rows as they were; a
``wal_checkpoint(TRUNCATE)`` copies the zeroed pages into the main file and empties the
log. It waits for writers (the busy timeout) and cannot finish while a reader still
holds an older snapshot, so it is retried; :attr:`Scrub.complete` says whether it ended.

PostgreSQL never overwrites in place: a deleted row stays in its page as a dead tuple
until ``VACUUM`` frees it, and its original insert stays in the WAL until the segment is
recycled (and in any WAL archive or base backup for as long as they are kept). Here
``VACUUM`` runs on the tables an erasure touches; see ``docs/compliance.md`` for what
that does and does not remove. VACUUM frees a dead row only once no transaction can still
see it: a transaction that was open before the scrub began (in this database, prepared,
or held by a replication slot) may have taken its snapshot before the deletion committed,
so the scrub first waits for those (retried, like the checkpoint) and says, in
:attr:`Scrub.detail`, which one kept the rows if it would not end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["ERASURE_TABLES", "Scrub", "scrub"]

# Where an erased subject's rows live: items and everything that cascades from them,
# the subject keys, and the model lineage that named them.
ERASURE_TABLES = (
    "items",
    "item_vaults",
    "labels",
    "assignments",
    "consensus",
    "escalations",
    "gold_answers",
    "gold_results",
    "predictions",
    "skips",
    "review_queue",
    "reviews",
    "subject_keys",
    "model_versions",
)


@dataclass(frozen=True, slots=True)
class Scrub:
    """What was done to the files: ``complete`` is False when the scrub could not finish."""

    backend: Literal["sqlite", "postgresql"]
    complete: bool
    action: str
    detail: str = ""


def scrub(engine: Engine, *, tables: Sequence[str] = ERASURE_TABLES, attempts: int = 20) -> Scrub:
    """Checkpoint and truncate SQLite's WAL, or VACUUM ``tables`` on PostgreSQL.

    Call only after the deleting transaction committed: a checkpoint cannot copy
    uncommitted pages, and VACUUM cannot free rows that are not yet dead.
    """
    if engine.dialect.name == "sqlite":
        return _checkpoint(engine, attempts)
    return _vacuum(engine, tables, attempts)


def _checkpoint(engine: Engine, attempts: int) -> Scrub:
    # A raw connection: the pragma must run outside any transaction (the pool's
    # connections are in autocommit mode, see loupe.db.engine).
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        frames = -1
        for attempt in range(attempts):
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, frames, _ = cursor.fetchone() or (1, -1, -1)
            if busy == 0:
                return Scrub("sqlite", complete=True, action="wal_checkpoint(TRUNCATE)")
            # A reader still holds an older snapshot: give it a moment to finish.
            time.sleep(min(0.01 * 2**attempt, 0.5))
    finally:
        connection.close()
    return Scrub(
        "sqlite",
        complete=False,
        action="wal_checkpoint(TRUNCATE)",
        detail=(
            f"readers kept the write-ahead log busy ({frames} frames) after {attempts} tries; "
            "the erased rows may remain in it until the next checkpoint"
        ),
    )


def _vacuum(engine: Engine, tables: Sequence[str], attempts: int) -> Scrub:
    done: list[str] = []
    try:
        with engine.connect() as connection:
            # VACUUM cannot run inside a transaction block.
            auto = connection.execution_options(isolation_level="AUTOCOMMIT")
            blockers = _wait_for_older_snapshots(auto, attempts)
            for table in tables:
                auto.exec_driver_sql(f'VACUUM "{table}"')
                done.append(table)
    except DBAPIError as exc:
        return Scrub(
            "postgresql",
            complete=False,
            action="VACUUM " + ", ".join(done),
            detail=f"VACUUM failed ({type(exc.orig).__name__}); run VACUUM on {', '.join(tables)}",
        )
    action = "VACUUM " + ", ".join(done)
    if blockers:
        return Scrub(
            "postgresql",
            complete=False,
            action=action,
            detail=(
                f"{'; '.join(blockers)} began before the scrub and may still see the deleted "
                f"rows, so VACUUM could not free them; they are freed by the next VACUUM "
                f"after it ends (autovacuum, or erase again)"
            ),
        )
    return Scrub("postgresql", complete=True, action=action)


def _wait_for_older_snapshots(connection: Connection, attempts: int) -> list[str]:
    """Wait until nothing that began before now can hold back VACUUM's horizon.

    Every transaction id below this moment's next id may have started, or taken its
    snapshot, before the deletion committed. A transaction that starts later has a snapshot
    whose oldest id is the oldest then running, so once none of those is left, none can
    appear. Returns what still held one after ``attempts`` tries (empty when none did).
    """
    horizon = int(connection.exec_driver_sql(_NEXT_XID).scalar_one())
    blockers: list[str] = []
    for attempt in range(attempts):
        blockers = _older_than(connection, horizon)
        if not blockers:
            return []
        time.sleep(min(0.01 * 2**attempt, 0.5))
    return blockers


_NEXT_XID = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"

# Everything that holds back the removal horizon of this database's tables (PostgreSQL 14
# and later count only this database's backends for them): open transactions (their id and
# their snapshot's oldest id), prepared transactions and replication slots. A running plain
# VACUUM (another scrub, autovacuum) is left out: PostgreSQL ignores it when it computes the
# horizon. A role without pg_read_all_stats sees no transaction ids of other roles'
# sessions: those count as holders (fail toward "not complete"). Transaction ids here are
# 32 bits; the caller widens them against the next id.
_HOLDERS = r"""
SELECT 'transaction of process ' || pid || ' (' || coalesce(nullif(application_name, ''),
       backend_type) || ', open since ' || to_char(xact_start, 'YYYY-MM-DD HH24:MI:SS TZ') || ')',
       backend_xid::text, backend_xmin::text, false
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)
   AND NOT (state = 'active' AND query ~* '^\s*(autovacuum: )?VACUUM\M'
            AND query !~* '\m(FULL|ANALYZE)\M')
UNION ALL
SELECT 'session of process ' || pid || ', whose transactions this role may not see '
       || '(grant it pg_read_all_stats)', NULL, NULL, true
  FROM pg_stat_activity
 WHERE datname = current_database() AND query = '<insufficient privilege>'
UNION ALL
SELECT 'prepared transaction ' || quote_literal(gid), transaction::text, NULL, false
  FROM pg_prepared_xacts WHERE database = current_database()
UNION ALL
SELECT 'replication slot ' || quote_literal(slot_name), xmin::text, NULL, false
  FROM pg_replication_slots
 WHERE xmin IS NOT NULL AND (database IS NULL OR database = current_database())
"""


def _older_than(connection: Connection, horizon: int) -> list[str]:
    now = int(connection.exec_driver_sql(_NEXT_XID).scalar_one())
    return [
        str(name)
        for name, xid, xmin, hidden in connection.exec_driver_sql(_HOLDERS)
        if hidden or any(x is not None and _widen(int(x), now) < horizon for x in (xid, xmin))
    ]


def _widen(xid: int, now: int) -> int:
    """The 64-bit id of a 32-bit transaction id at most 2**31 ids before ``now``."""
    return now - ((now - xid) % 2**32)
