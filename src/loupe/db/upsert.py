"""INSERT ... ON CONFLICT DO NOTHING for both backends (they share the syntax)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import FromClause, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_ignore"]


def _insert(session: Session, table: FromClause) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(cast(Table, table))
    return sqlite.insert(cast(Table, table))


def insert_ignore(session: Session, table: FromClause, *, conflict: Sequence[str]) -> Any:
    """An INSERT that skips rows whose ``conflict`` columns already exist."""
    return _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict))
