"""A privacy gate that records, at each batch it checks, whether an import holds the
database's writer and how many items are committed so far (tests of issue 18)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.privacy import Policy
from loupe.services.compliance.gate import PendingCheck, PrivacyGate


class ProbeGate(PrivacyGate):
    """Records ``(writer_free, committed_items)`` per batch it starts gating
    (:meth:`submit`, which :meth:`check` calls too)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.seen: list[tuple[bool, int]] = []

    def submit(
        self,
        rows: Sequence[dict[str, Any]],
        *,
        policy: Policy,
        metadata: Sequence[dict[str, Any]] | None = None,
    ) -> PendingCheck:
        with self.db.transaction(readonly=True) as session:
            committed = session.scalar(select(func.count()).select_from(Item)) or 0
        self.seen.append((writer_is_free(self.db), committed))
        return super().submit(rows, policy=policy, metadata=metadata)


def writer_is_free(db: Database) -> bool:
    """Whether another connection could write now, without waiting.

    SQLite: ``BEGIN IMMEDIATE`` with no busy timeout. PostgreSQL: a lock on ``items``
    that conflicts with any open transaction that inserted items.
    """
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        connection = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE NOWAIT")
        return True
    except Exception:
        return False
    finally:
        raw.rollback()
        raw.close()
