"""A write that waits too long for SQLite's writer lock is a 503 with ``Retry-After``
(HTTP) or exit code 10 (CLI), never a bare ``TimeoutError`` (a 500) or a traceback."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError
from tests.factories import add_items, make_project, make_user, snapshot

from loupe.cli import _unavailable, main
from loupe.db import engine as engine_module
from loupe.db.database import Database
from loupe.errors import Unavailable
from loupe.settings import Settings
from loupe.web.app import create_app


@pytest.fixture
def sqlite_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the writer lock and its timeout are SQLite's")
    # Wait 0.2 s instead of 30 s for the lock (read when an engine is made or used).
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    return database_url


def test_a_write_that_times_out_on_the_writer_lock_is_a_503(
    sqlite_url: str, settings: Settings, db: Database
) -> None:
    annotator = make_user(db, "maya")
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, 2)
    before = snapshot(db)
    url = f"/api/v1/projects/{project}/tasks/next"
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        holder = client.app.state.db.writer()  # type: ignore[attr-defined]
        holder.execute(text("SELECT 1"))  # a writer: holds the lock until it ends
        try:
            busy = client.post(url, headers=annotator.headers)
        finally:
            holder.rollback()
            holder.close()
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == str(engine_module.BUSY_RETRY_AFTER_S)
        error = busy.json()["error"]
        assert error["code"] == "unavailable"
        assert "busy" in error["message"]
        assert error["details"] == {"retry_after": engine_module.BUSY_RETRY_AFTER_S}
        assert snapshot(db) == before
        # Once the lock is free, the same request succeeds.
        served = client.post(url, headers=annotator.headers)
        assert served.status_code == 200
        assert served.json()["task"] is not None


def test_a_cli_write_on_a_locked_database_exits_10_with_one_line(
    sqlite_url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(db)
    path = make_url(sqlite_url).database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["users", "create", "ines", "--role", "annotator", "--database-url", sqlite_url])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert exit_info.value.code == 10
    err = capsys.readouterr().err
    assert "busy" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_database_errors_outside_services_map_to_unavailable() -> None:
    locked = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    mapped = _unavailable(locked)
    assert mapped is not None
    assert mapped.exit_code == 10
    assert "database is locked" in mapped.message
    assert _unavailable(ValueError("not a database error")) is None


def test_write_lock_waits_are_bounded_in_the_engine(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/lock.db")
    holder = database.writer()
    holder.execute(text("SELECT 1"))
    try:
        raised: list[BaseException] = []

        def write() -> None:
            try:
                with database.transaction() as session:
                    session.execute(text("SELECT 1"))
            except BaseException as exc:  # recorded for the assertion below
                raised.append(exc)

        worker = threading.Thread(target=write)
        worker.start()
        worker.join()
        assert len(raised) == 1 and isinstance(raised[0], Unavailable)
    finally:
        holder.rollback()
        holder.close()
        database.dispose()


def test_the_writer_lock_counts_the_threads_waiting_for_it() -> None:
    lock = engine_module.WriterLock()
    assert lock.acquire(timeout=1) and lock.waiting == 0
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(lock.acquire(timeout=60)))
    waiter.start()
    while lock.waiting == 0:  # wait for readiness: the thread is blocked in acquire
        waiter.join(0.001)
    assert lock.waiting == 1
    lock.release()
    waiter.join()
    assert got == [True] and lock.waiting == 0  # the holder is not counted
    lock.release()


def test_writers_waiting_counts_this_process_on_sqlite(sqlite_url: str, db: Database) -> None:
    holder = db.writer()
    holder.execute(text("SELECT 1"))  # holds the writer lock until it ends
    try:
        assert db.writers_waiting() == 0 and not db.bulk_writer_should_yield()
        waiter = threading.Thread(target=_write_once, args=(db,))
        waiter.start()
        while db.writers_waiting() == 0:
            waiter.join(0.001)
        assert db.bulk_writer_should_yield()  # an import pauses to let it in
    finally:
        holder.rollback()
        holder.close()
    waiter.join()
    assert db.writers_waiting() == 0


def _write_once(db: Database) -> None:
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
