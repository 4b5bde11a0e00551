"""Queries come back as named rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from loupe.db.database import Database, redacted
from loupe.db.raw import Query, Raw


class Pair(NamedTuple):
    number: int
    word: str


PAIRS = Query("SELECT 1 AS number, 'one' AS word UNION ALL SELECT 2, 'two'", Pair)
NOTHING = Query("SELECT 1 AS number, 'one' AS word WHERE 1 = :never", Pair)


def test_rows_come_back_named(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        raw = Raw(session)
        first = raw.one(PAIRS)
        assert first == Pair(1, "one")
        assert first is not None and first.word == "one"
        assert [row.number for row in raw.all(PAIRS)] == [1, 2]


def test_no_row_is_none_and_no_rows_is_empty(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        raw = Raw(session)
        assert raw.one(NOTHING, never=0) is None
        assert raw.all(NOTHING, never=0) == []


def test_locked_adds_for_update_only_on_postgres() -> None:
    assert PAIRS.locked(postgres=False) is PAIRS
    assert PAIRS.locked(postgres=True).sql.endswith(" FOR UPDATE")
    assert PAIRS.locked(postgres=True).row is Pair


SECRET = "jane.doe.1984@example.org"
INSERT_USER = (
    "INSERT INTO users (username, role, display_name, is_active, created_at) "
    "VALUES (:name, 'annotator', :name, TRUE, CURRENT_TIMESTAMP)"
)


def test_a_driver_error_is_sqlalchemys_with_its_parameters_hidden(db: Database) -> None:
    """What the HTTP and CLI layers map (and log without values), as for any statement."""
    with db.transaction() as session:
        Raw(session).run(INSERT_USER, name=SECRET)
    with pytest.raises(IntegrityError) as info, db.transaction() as session:
        Raw(session).run(INSERT_USER, name=SECRET)
    assert isinstance(info.value.orig, db.engine.dialect.loaded_dbapi.Error)
    assert SECRET not in redacted(info.value)
    with pytest.raises(DBAPIError), db.transaction(readonly=True) as session:
        Raw(session).one(Query("SELECT number FROM no_such_table", Pair))
