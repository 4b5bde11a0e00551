"""A database handle: the engine plus sessions for writers and for readers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from loupe.db.engine import (
    Synchronous,
    make_engine,
    make_sessionmaker,
    sqlite_file,
    writers_waiting,
)
from loupe.db.migrate import upgrade
from loupe.db.sqlite_sharing import other_processes_attached
from loupe.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from loupe.settings import Settings

__all__ = ["Database", "is_unavailable", "is_unique_violation", "redacted"]


class Database:
    """Owns one engine. ``transaction()`` commits on success and rolls back on error."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        sqlite_synchronous: Synchronous = "full",
        prepared_statements: bool = True,
    ) -> None:
        self.url = url
        try:
            self.engine: Engine = make_engine(
                url,
                pool_size=pool_size,
                sqlite_synchronous=sqlite_synchronous,
                prepared_statements=prepared_statements,
            )
        except ArgumentError as exc:  # a URL SQLAlchemy cannot parse, or an unknown dialect
            raise InvalidInput(_bad_url(url, exc)) from None
        self.writer = make_sessionmaker(self.engine)
        self.reader = make_sessionmaker(self.engine, readonly=True)
        self.lease_writer = make_sessionmaker(self.engine, durable=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database ``settings`` describe (URL, pool size, SQLite durability,
        prepared statements)."""
        return cls(
            settings.database_url,
            pool_size=settings.db_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
            prepared_statements=settings.db_prepared_statements,
        )

    def migrate(self) -> None:
        """Bring the schema up to date; a database that cannot be opened or written
        raises :class:`Unavailable` naming it and what to fix."""
        try:
            upgrade(self.engine)
        except DBAPIError as exc:
            if "file is not a database" in str(exc.orig):  # SQLite, on a file of another kind
                raise InvalidInput(
                    f"{self.location} is not a SQLite database: set --database-url or "
                    "LOUPE_DATABASE_URL to Loupe's database (or a new file's path)"
                ) from None
            if not is_unavailable(exc):
                raise
            raise Unavailable(self.describe_failure(exc)) from None

    def check_writable(self) -> None:
        """Raise :class:`Unavailable` unless the database accepts a write.

        The write (a no-op ``UPDATE`` of ``alembic_version``) is rolled back, so this
        costs one short writer transaction and changes nothing.
        """
        try:
            with self.engine.connect() as connection, connection.begin() as transaction:
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
                transaction.rollback()
        except DBAPIError as exc:
            raise Unavailable(self.describe_failure(exc)) from None

    @property
    def location(self) -> str:
        """The SQLite file, or the URL without its password."""
        return sqlite_file(self.url) or make_url(self.url).render_as_string(hide_password=True)

    def describe_failure(self, exc: DBAPIError) -> str:
        """One line: what is wrong with the database and what to do about it."""
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        lowered = reason.lower()
        where = self.location
        if "readonly" in lowered or "read-only" in lowered or _sqlstate(exc) == "25006":
            return (
                f"the database {where} is read-only ({reason}): make it writable for the "
                "user running Loupe (for SQLite: the file, its directory, where SQLite "
                "creates -wal/-shm files, and the filesystem), or set LOUPE_DATABASE_URL "
                "to a writable database"
            )
        if "disk is full" in lowered or "no space" in lowered or _sqlstate(exc) == "53100":
            return f"the disk holding the database {where} is full ({reason}): free space"
        if "database is locked" in lowered or "database is busy" in lowered:
            return (
                f"the database {where} is busy: another process held its write lock for "
                "too long; retry shortly"
            )
        if "unable to open" in lowered:
            return (
                f"cannot open the database {where} ({reason}): create its directory and "
                "make it writable for the user running Loupe, or set LOUPE_DATABASE_URL"
            )
        return (
            f"the database {where} cannot be written ({reason}): check that it is "
            "running and writable, or set LOUPE_DATABASE_URL"
        )

    @contextmanager
    def transaction(self, *, readonly: bool = False, durable: bool = True) -> Iterator[Session]:
        """A session in one transaction. ``durable=False`` is for writes whose loss on a
        power cut is harmless (a task's lease): their commit is not synced to disk."""
        maker = self.reader if readonly else self.writer if durable else self.lease_writer
        session = maker()
        try:
            yield session
            if readonly:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def writers_waiting(self) -> int:
        """Threads of this process waiting to write (SQLite; always 0 on PostgreSQL)."""
        return writers_waiting(self.engine)

    def bulk_writer_should_yield(self) -> bool:
        """Whether a bulk writer (an import) should pause between two write batches so
        that others take SQLite's writer lock: a thread of this process waits for it,
        or another process has the database open and may (:mod:`loupe.db.sqlite_sharing`).
        Never on PostgreSQL, which locks rows, not the database."""
        path = sqlite_file(self.url)
        if self.engine.dialect.name != "sqlite" or path is None:
            return False
        return self.writers_waiting() > 0 or other_processes_attached(path)

    def dispose(self) -> None:
        self.engine.dispose()


# SQLSTATEs of a PostgreSQL that cannot take writes: read-only transaction, disk
# full, out of memory, too many connections, shutting down, cannot connect.
_UNAVAILABLE_STATES = frozenset(
    {"25006", "53100", "53200", "53300", "57P01", "57P02", "57P03", "08001", "08006"}
)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _bad_url(url: str, exc: ArgumentError) -> str:
    """What is wrong with a database URL SQLAlchemy refused, without its password."""
    try:
        shown = repr(make_url(url).render_as_string(hide_password=True))
        reason = f"no driver for {make_url(url).drivername!r}"
    except ArgumentError:
        shown, reason = "", "not a URL"  # unparsed, it may hold a password: not echoed
    return (
        f"the database URL {shown}{' ' if shown else ''}cannot be used ({reason}): set "
        "--database-url or LOUPE_DATABASE_URL to sqlite:///path/to/loupe.db or "
        "postgresql+psycopg://user:password@host/name"
    )


def redacted(exc: DBAPIError) -> str:
    """``exc`` for a log: the driver's first line and the statement, never the values.

    Engines hide bound parameters, but PostgreSQL's own ``DETAIL`` line repeats
    values ("Key (username)=(...) already exists"): only the first line is kept.
    """
    first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
    return f"{type(exc.orig or exc).__name__}: {first} [SQL: {exc.statement}]"


def is_unique_violation(exc: DBAPIError) -> bool:
    """Whether ``exc`` is a unique constraint refusing a row another transaction committed
    first (two requests creating the same thing at once): the caller's to retry, not a
    fault. PostgreSQL's SQLSTATE 23505; SQLite's ``UNIQUE constraint failed``."""
    return isinstance(exc, IntegrityError) and (
        _sqlstate(exc) == "23505" or "UNIQUE constraint failed" in str(exc.orig)
    )


def is_unavailable(exc: DBAPIError) -> bool:
    """Whether ``exc`` says the database cannot take work now (read-only, full, down),
    as opposed to a fault in the statement."""
    return isinstance(exc, OperationalError) or _sqlstate(exc) in _UNAVAILABLE_STATES
