"""Plain SQL on the session's own connection, for the annotator hot path.

Why not SQLAlchemy Core here: ``next task`` and ``submit`` run about sixteen
small statements per label. Measured on this 2-core machine, building and
executing one through Core costs 90-180 µs of Python, the same statement on
the DB-API connection about 5 µs. The hot path is the product's throughput, so
it speaks SQL directly — inside the same transaction as the rest of the
request, with the portable subset both SQLite and PostgreSQL accept (named
``:params``, ``RETURNING``, ``ON CONFLICT``).

A statement that returns rows is a :class:`Query`: its SQL and the ``NamedTuple``
its rows come back as, so a column is known by its name (``item.label_count``)
and type, never by its position. Queries live in ``loupe.db.queries``, one
module per table (the table the statement is about).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

__all__ = ["MAX_INSERT_VALUES", "Query", "Raw", "driver_error"]

RowT = TypeVar("RowT", bound=NamedTuple)


@dataclass(frozen=True, slots=True)
class Query(Generic[RowT]):
    """A statement returning rows of type ``row`` (a ``NamedTuple`` in SELECT order)."""

    sql: str
    row: type[RowT]

    def locked(self, postgres: bool) -> Query[RowT]:
        """The same query taking row locks (``FOR UPDATE``) where the database has them."""
        return Query(self.sql + " FOR UPDATE", self.row) if postgres else self


# Bound values per multi-row INSERT: under SQLite's limit (32,766 since 3.32) and
# PostgreSQL's (65,535).
MAX_INSERT_VALUES = 30_000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_NAMED = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own SQLite DateTime format


@lru_cache(maxsize=256)
def _pyformat(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def driver_error(sql: str, exc: Exception, base: type[Exception]) -> StatementError:
    """A DB-API error (``base`` is the driver's ``Error``) as SQLAlchemy raises it, its
    parameters hidden: the one error type the HTTP and CLI layers map (503 for a database
    that cannot take work) and log without values (PostgreSQL's DETAIL line repeats them)."""
    return DBAPIError.instance(sql, None, exc, base, hide_parameters=True)


class Raw:
    """DB-API access to the session's current connection (and transaction)."""

    __slots__ = ("_dbapi", "_driver_error", "postgres", "remembered")

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self._dbapi: Any = connection.connection.driver_connection
        self._driver_error: type[Exception] = connection.dialect.loaded_dbapi.Error
        # Rows a service call reads more than once and does not itself change (a
        # project's webhook subscriptions): kept for this object's life, one call.
        self.remembered: dict[tuple[str, int], Any] = {}

    def _execute(self, sql: str, params: dict[str, Any]) -> Any:
        if self.postgres:
            return self._dbapi.execute(_pyformat(sql), params)
        return self._dbapi.execute(sql, params)

    def _wrapped(self, sql: str, exc: Exception) -> StatementError:
        return driver_error(sql, exc, self._driver_error)

    def one(self, query: Query[RowT], **params: Any) -> RowT | None:
        try:
            found = self._execute(query.sql, params).fetchone()
        except self._driver_error as exc:
            raise self._wrapped(query.sql, exc) from exc
        return None if found is None else query.row._make(found)

    def all(self, query: Query[RowT], **params: Any) -> list[RowT]:
        try:
            rows = self._execute(query.sql, params).fetchall()
        except self._driver_error as exc:
            raise self._wrapped(query.sql, exc) from exc
        return list(map(query.row._make, rows))

    def run(self, sql: str, **params: Any) -> int:
        """Execute; return the number of rows changed."""
        try:
            count: int = self._execute(sql, params).rowcount
        except self._driver_error as exc:
            raise self._wrapped(sql, exc) from exc
        return count

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        conflict: Sequence[str] = (),
        returning: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` (values in ``columns`` order, in each backend's native form: see
        :meth:`time` and :meth:`json`) with multi-row ``VALUES`` statements; with
        ``conflict``, rows whose conflict columns exist already are skipped. Returns the
        ``returning`` columns of the rows inserted (in no particular order).

        For bulk writes (imports): SQLAlchemy's own ``insertmanyvalues`` spends most of a
        batch's time in per-value bind processing that these rows do not need."""
        names = [table, *columns, *conflict, *returning]
        if not all(_IDENTIFIER.fullmatch(name) for name in names):
            raise ValueError(f"not a plain SQL identifier among {names!r}")
        mark = "%s" if self.postgres else "?"
        one = "(" + ", ".join([mark] * len(columns)) + ")"
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        tail = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
        tail += f" RETURNING {', '.join(returning)}" if returning else ""
        per_statement = max(1, MAX_INSERT_VALUES // max(1, len(columns)))
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            sql = head + ", ".join([one] * len(part)) + tail
            values = [value for row in part for value in row]
            try:
                cursor = self._dbapi.execute(sql, values)
                if returning:
                    out.extend(tuple(row) for row in cursor.fetchall())
            except self._driver_error as exc:
                raise self._wrapped(head + "...", exc) from exc
        return out

    # Values cross the boundary in each backend's native form.
    def time(self, value: datetime) -> Any:
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive if self.postgres else naive.strftime(_SQLITE_TIME)

    def time_out(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # fromisoformat reads SQLAlchemy's SQLite format and is ~20x faster than strptime.
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def json(self, value: Any) -> Any:
        if self.postgres:
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def json_out(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) and not self.postgres else value
