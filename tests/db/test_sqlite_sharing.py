"""Another process with the SQLite database open is seen; this process's own connections
are not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from loupe.db.database import Database
from loupe.db.engine import sqlite_file
from loupe.db.sqlite_sharing import other_processes_attached

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="asks Linux's fcntl locks")

HOLD = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
print("ready", flush=True)
sys.stdin.read()  # hold the connection until the test closes our stdin
"""


@contextmanager
def another_process(path: str) -> Iterator[None]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"  # wait for readiness
        yield
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()


@pytest.fixture
def sqlite_db(database_url: str) -> Iterator[tuple[Database, str]]:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("a question about SQLite files")
    db = Database(database_url)
    path = sqlite_file(database_url)
    assert path is not None
    with db.transaction() as session:  # this process's own connection stays in the pool
        session.execute(text("SELECT 1"))
    yield db, path
    db.dispose()


def test_only_another_process_counts(sqlite_db: tuple[Database, str]) -> None:
    db, path = sqlite_db
    assert not other_processes_attached(path)
    assert not db.bulk_writer_should_yield()
    with another_process(path):
        assert other_processes_attached(path)
        assert db.bulk_writer_should_yield()  # an import now pauses after every batch
    assert not other_processes_attached(path)


def test_without_an_answer_it_says_yes(tmp_path: Path) -> None:
    """No -shm file to ask (not WAL, or gone): the safe side is to pause."""
    assert other_processes_attached(str(tmp_path / "missing.db"))
