"""Queries come back as named rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.database import Database
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
