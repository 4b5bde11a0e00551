"""Queries come back as named rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from loupe.db import raw as raw_module
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


USER_COLUMNS = ("username", "role", "display_name", "is_active", "created_at")


def _users(raw: Raw, *names: str) -> list[tuple[object, ...]]:
    now = raw.time(datetime.now(UTC))
    return [(name, "annotator", name, True, now) for name in names]


def _usernames(db: Database) -> list[str]:
    with db.transaction(readonly=True) as session:
        return sorted(row.word for row in Raw(session).all(USERNAMES))


USERNAMES = Query("SELECT id AS number, username AS word FROM users", Pair)


def test_insert_writes_every_row_and_returns_what_it_inserted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five values per row, at most twelve per statement: seven rows take four statements.
    monkeypatch.setattr(raw_module, "MAX_INSERT_VALUES", 12)
    names = [f"user{n}" for n in range(7)]
    with db.transaction() as session:
        raw = Raw(session)
        inserted = raw.insert("users", USER_COLUMNS, _users(raw, *names), returning=("username",))
    assert sorted(inserted) == [(name,) for name in names]
    assert _usernames(db) == names


def test_insert_skips_conflicting_rows_and_returns_only_new_ones(db: Database) -> None:
    with db.transaction() as session:
        raw = Raw(session)
        raw.insert("users", USER_COLUMNS, _users(raw, "ana"))
    with db.transaction() as session:
        raw = Raw(session)
        rows = _users(raw, "ana", "ben")
        inserted = raw.insert(
            "users", USER_COLUMNS, rows, conflict=("username",), returning=("username",)
        )
    assert inserted == [("ben",)]
    assert _usernames(db) == ["ana", "ben"]


def test_insert_takes_plain_identifiers_only(db: Database) -> None:
    with db.transaction() as session:
        raw = Raw(session)
        rows = _users(raw, "ana")
        with pytest.raises(ValueError, match="identifier"):
            raw.insert("users; DROP TABLE items", USER_COLUMNS, rows)
    assert _usernames(db) == []


def test_an_insert_error_is_sqlalchemys_with_its_values_hidden(db: Database) -> None:
    with pytest.raises(IntegrityError) as info, db.transaction() as session:
        Raw(session).insert("users", USER_COLUMNS, [_users(Raw(session), SECRET)[0]] * 2)
    assert SECRET not in redacted(info.value)
    assert _usernames(db) == []
