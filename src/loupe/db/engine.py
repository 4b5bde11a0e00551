"""The one place a database engine is made and SQLite is configured.

SQLite gets WAL, ``foreign_keys=ON``, ``synchronous=FULL`` by default (every
commit is synced to disk before it returns, so an acknowledged label survives a
power loss; ``NORMAL``, opt-in, survives application crashes only), a
``busy_timeout`` and ``BEGIN IMMEDIATE`` for every transaction, so that writers
queue on the database lock instead of failing with "database is locked" half-way
through a transaction. A writer that waits longer than the busy timeout gets
:class:`~loupe.errors.Unavailable` (HTTP 503 with ``Retry-After``, exit code 10).
A transaction may opt out of the sync (``make_sessionmaker(durable=False)``): a task's
lease, whose loss on a power cut only returns the item to the queue. SQLite commits it
with ``synchronous=NORMAL`` (still atomic; the next synced commit syncs it too) and
PostgreSQL with ``SET LOCAL synchronous_commit = off``; labels, ledger entries and
everything else stay synced.

PostgreSQL runs the same code through psycopg 3. ``prepared_statements=False`` turns
off psycopg's server-side prepared statements (``prepare_threshold=None``), which a
connection pooler in transaction mode (PgBouncer before 1.21, or without
``max_prepared_statements``) cannot carry from one transaction to the next.

Every engine hides SQL parameters (``hide_parameters=True``): a database error's
message, which reaches the server log, then holds the statement but never the
values (subject ids, unredacted metadata). A new SQLite file is created with
mode 0600 (its ``-wal`` and ``-shm`` files take the same mode).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from loupe.errors import Unavailable

__all__ = [
    "Synchronous",
    "WriterLock",
    "is_sqlite",
    "make_engine",
    "make_sessionmaker",
    "sqlite_file",
    "writers_waiting",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds a client is told to wait (``Retry-After``) when the writer lock timed out.
BUSY_RETRY_AFTER_S = 5
Synchronous = Literal["full", "normal"]
READONLY_OPTION = "loupe_readonly"
#: A transaction whose commit need not survive a power cut (see the module's docstring).
NOT_DURABLE_OPTION = "loupe_not_durable"
_HOLDS_WRITER = "loupe_holds_writer"
_SYNCHRONOUS = "loupe_synchronous"  # the connection's PRAGMA synchronous, as last set


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str,
    *,
    pool_size: int = 8,
    echo: bool = False,
    sqlite_synchronous: Synchronous = "full",
    prepared_statements: bool = True,
) -> Engine:
    """Create an engine for ``url``; SQLite is configured on every new connection.

    ``sqlite_synchronous="normal"`` trades durability for speed: commits are synced
    only at WAL checkpoints, so a power loss or OS crash may lose the last
    acknowledged writes (a crash of Loupe itself loses nothing).
    ``prepared_statements=False`` (PostgreSQL only) never prepares a statement on the
    server, for a pooler in transaction mode.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_private(parsed)
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=pool_size * 2,
        )
        _configure_sqlite(engine, synchronous=sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # psycopg prepares a statement after 5 runs on a connection; ``None`` never does.
    connect_args = {} if prepared_statements else {"prepare_threshold": None}
    engine = create_engine(
        parsed,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _relax_postgresql)
    return engine


def _relax_postgresql(connection: Any) -> None:
    if connection.get_execution_options().get(NOT_DURABLE_OPTION):
        # Transaction-scoped, so a pooler in transaction mode carries it correctly.
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")


def sqlite_file(url: str | URL) -> str | None:
    """The file a SQLite URL names (``None`` for memory, URI filenames and other databases)."""
    parsed = make_url(url) if isinstance(url, str) else url
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        return None
    return database


def _create_private(parsed: URL) -> None:
    # The database holds personal data: create it readable by its owner only, as
    # the key files are. Done before SQLite opens it, since SQLite creates files 0644.
    path = sqlite_file(parsed)
    if path is None:
        return
    # It may exist already, or not be creatable: connecting reports the latter clearly.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


class WriterLock:
    """A process's SQLite writer lock (see :func:`_configure_sqlite`), which knows how many
    threads wait for it: a bulk writer yields between batches only when someone does."""

    __slots__ = ("_lock", "_tally", "_waiting")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tally = threading.Lock()
        self._waiting = 0

    def acquire(self, timeout: float) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        with self._tally:
            self._waiting += 1
        try:
            return self._lock.acquire(timeout=timeout)
        finally:
            with self._tally:
                self._waiting -= 1

    def release(self) -> None:
        self._lock.release()

    @property
    def waiting(self) -> int:
        """Threads blocked in :meth:`acquire` right now (the holder not counted)."""
        return self._waiting


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def writers_waiting(engine: Engine) -> int:
    """Threads of this process waiting for ``engine``'s SQLite writer lock; 0 on
    PostgreSQL, which locks rows, not the database. Writers in other processes wait in
    SQLite's busy handler and are not counted."""
    lock = _WRITER_LOCKS.get(engine)
    return lock.waiting if lock is not None else 0


def _configure_sqlite(engine: Engine, *, synchronous: Synchronous) -> None:
    if synchronous not in ("full", "normal"):
        raise ValueError(f"sqlite_synchronous must be 'full' or 'normal', not {synchronous!r}")

    configured = synchronous.upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Take control of transactions from the sqlite3 module so that BEGIN
        # IMMEDIATE below is the only BEGIN issued.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={configured}")
        record.info[_SYNCHRONOUS] = configured
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Erased bytes are overwritten rather than left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    # One writer at a time per process, queued on a Python lock: SQLite's own busy
    # handler polls with sleeps of up to 100 ms, which under a few concurrent writers
    # turned millisecond transactions into second-long tails. The busy handler still
    # arbitrates between processes (several server workers).
    writer = _WRITER_LOCKS[engine] = WriterLock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front: a read that later upgrades to a write
        # could otherwise fail with SQLITE_BUSY instead of waiting. Read-only
        # sessions (exports, listings) begin deferred so they never block writers.
        if connection.get_execution_options().get(READONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise Unavailable(
                f"the database is busy: another write held it for over "
                f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s; retry in {BUSY_RETRY_AFTER_S} s",
                details={"retry_after": BUSY_RETRY_AFTER_S},
            )
        connection.info[_HOLDS_WRITER] = True
        try:
            # SQLite refuses to change the level inside a transaction: set it before.
            wanted = (
                "NORMAL" if connection.get_execution_options().get(NOT_DURABLE_OPTION)
                else configured
            )  # fmt: skip
            if connection.info.get(_SYNCHRONOUS) != wanted:
                connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
                connection.info[_SYNCHRONOUS] = wanted
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop(_HOLDS_WRITER, False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def make_sessionmaker(
    engine: Engine, *, readonly: bool = False, durable: bool = True
) -> sessionmaker[Session]:
    """Sessions for writers, or (``readonly=True``) for readers that must not lock;
    ``durable=False``: writers whose commits may be lost on a power cut (not synced)."""
    bind = engine
    if readonly:
        bind = engine.execution_options(**{READONLY_OPTION: True})
    elif not durable:
        bind = engine.execution_options(**{NOT_DURABLE_OPTION: True})
    return sessionmaker(bind, expire_on_commit=False, autoflush=False)
