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
that does and does not remove.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine
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
    return _vacuum(engine, tables)


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


def _vacuum(engine: Engine, tables: Sequence[str]) -> Scrub:
    done: list[str] = []
    try:
        with engine.connect() as connection:
            # VACUUM cannot run inside a transaction block.
            auto = connection.execution_options(isolation_level="AUTOCOMMIT")
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
    return Scrub("postgresql", complete=True, action="VACUUM " + ", ".join(done))
