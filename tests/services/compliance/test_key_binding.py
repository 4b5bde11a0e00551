"""A key directory is bound to one database (#19): first-time binding, a match, a
mismatch, a directory with no id, the old shared ``./loupe-keys``, and PostgreSQL."""

from __future__ import annotations

import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.cli_run import run

from loupe.db.database import Database
from loupe.db.privacy_models import AuditEvent
from loupe.errors import Conflict
from loupe.services.compliance.key_binding import (
    BIND_ACTION,
    DATABASE_ID_FILE,
    KeyDirMismatch,
    bind_key_dir,
    check_key_dir,
    database_id,
    key_dir_id,
    release_key_dir,
)
from loupe.settings import Settings
from loupe.web.app import create_app


def _bindings(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == BIND_ACTION)
        return int(session.scalar(query) or 0)


def _db_id(db: Database) -> str | None:
    with db.transaction(readonly=True) as session:
        return database_id(session)


@pytest.fixture
def other_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A second, migrated SQLite database."""
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def test_first_binding_writes_one_id_to_both(db: Database, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    check_key_dir(db, key_dir)  # neither has an id yet: nothing to refuse
    bound = bind_key_dir(db, key_dir)
    assert len(bound) == 32 and key_dir_id(key_dir) == bound == _db_id(db)
    assert stat.S_IMODE((key_dir / DATABASE_ID_FILE).stat().st_mode) == 0o600
    assert _bindings(db) == 1
    # A match: nothing is written again.
    assert bind_key_dir(db, key_dir) == bound
    check_key_dir(db, key_dir)
    assert _bindings(db) == 1


def test_another_databases_key_dir_is_refused_naming_both(
    db: Database, other_db: Database, tmp_path: Path
) -> None:
    ours, theirs = tmp_path / "keys", tmp_path / "other-keys"
    bind_key_dir(db, ours)
    bind_key_dir(other_db, theirs)
    for attempt in (check_key_dir, bind_key_dir):
        with pytest.raises(KeyDirMismatch) as caught:
            attempt(other_db, ours)
        message = caught.value.message
        assert str(ours) in message and other_db.location in message
        assert "\n" not in message and "LOUPE_KEY_DIR" in message
    assert key_dir_id(ours) == _db_id(db) != _db_id(other_db)
    assert _bindings(other_db) == 1
    # adopt never overrides two different ids
    with pytest.raises(KeyDirMismatch):
        bind_key_dir(other_db, ours, adopt=True)


def test_a_bound_database_refuses_a_key_dir_without_id_until_adopted(
    db: Database, tmp_path: Path
) -> None:
    bound = bind_key_dir(db, tmp_path / "keys")
    fresh = tmp_path / "restored-keys"
    fresh.mkdir()
    with pytest.raises(KeyDirMismatch, match=f"no {DATABASE_ID_FILE}.*{bound}"):
        check_key_dir(db, fresh)
    assert key_dir_id(fresh) is None  # the refusal wrote nothing
    assert bind_key_dir(db, fresh, adopt=True) == bound == key_dir_id(fresh)


def test_a_corrupt_id_file_is_a_conflict(db: Database, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    (key_dir / DATABASE_ID_FILE).write_text("not an id\n")
    with pytest.raises(Conflict, match="corrupt"):
        check_key_dir(db, key_dir)


def test_two_databases_binding_one_fresh_dir_at_once_one_wins(
    db: Database, other_db: Database, tmp_path: Path
) -> None:
    key_dir = tmp_path / "shared-keys"
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def bind(name: str, database: Database) -> None:
        barrier.wait()
        try:
            outcomes[name] = bind_key_dir(database, key_dir)
        except KeyDirMismatch as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=bind, args=pair) for pair in (("a", db), ("b", other_db))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [name for name, got in outcomes.items() if isinstance(got, str)]
    assert len(won) == 1, outcomes
    assert key_dir_id(key_dir) == outcomes[won[0]]
    loser = other_db if won == ["a"] else db
    assert _db_id(loser) is None and _bindings(loser) == 0


def test_the_old_shared_loupe_keys_is_detected_and_the_fix_works(
    tmp_path: Path,
    sqlite_template: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (#19): tour.db and the demo's database shared ./loupe-keys silently."""
    import uvicorn

    monkeypatch.delenv("LOUPE_KEY_DIR", raising=False)
    monkeypatch.delenv("LOUPE_DATABASE_URL", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    shared = tmp_path / "loupe-keys"
    shared.mkdir()
    demo, tour = tmp_path / "loupe-demo.db", tmp_path / "tour.db"
    for path in (demo, tour):  # both made before binding, both using ./loupe-keys
        shutil.copy(sqlite_template, path)
    demo_url, tour_url = f"sqlite:///{demo}", f"sqlite:///{tour}"
    assert Settings(database_url=tour_url).resolved_key_dir() == shared

    assert run(capsys, "serve", "--database-url", demo_url)[0] == 0  # first to start binds
    code, out, err = run(capsys, "serve", "--database-url", tour_url)
    assert code == 6 and out == ""
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert str(shared) in err and str(tour) in err
    assert "cp -a" in err and "loupe keys bind" in err

    # The fix the message gives: a copy of its own, without the other database's id.
    own = tmp_path / "tour-keys"
    shutil.copytree(shared, own)
    (own / DATABASE_ID_FILE).unlink()
    assert Settings(database_url=tour_url).resolved_key_dir() == own
    assert run(capsys, "serve", "--database-url", tour_url)[0] == 0
    assert key_dir_id(own) not in (None, key_dir_id(shared))


def test_init_refuses_before_creating_keys_in_another_databases_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "keys"
    monkeypatch.setenv("LOUPE_KEY_DIR", str(shared))
    first = f"sqlite:///{tmp_path / 'first.db'}"
    assert run(capsys, "init", "--database-url", first)[0] == 0
    files = sorted(path.name for path in shared.iterdir())
    assert DATABASE_ID_FILE in files
    code, _, err = run(capsys, "init", "--database-url", f"sqlite:///{tmp_path / 'second.db'}")
    assert code == 6 and str(shared) in err and "second.db" in err
    assert sorted(path.name for path in shared.iterdir()) == files


def test_keys_bind_adopts_a_key_dir_the_refusal_asked_to_check(
    db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bound = bind_key_dir(db, tmp_path / "keys")
    copy = tmp_path / "copied-keys"
    copy.mkdir()
    monkeypatch.setenv("LOUPE_KEY_DIR", str(copy))
    assert run(capsys, "keys", "rotate", "--database-url", database_url)[0] == 6
    code, out, _ = run(capsys, "keys", "bind", "--database-url", database_url)
    assert code == 0 and bound in out
    assert key_dir_id(copy) == bound


def test_the_server_refuses_to_start_with_another_databases_keys(
    settings: Settings, other_db: Database
) -> None:
    bind_key_dir(other_db, settings.resolved_key_dir())
    app = create_app(settings)
    with pytest.raises(KeyDirMismatch), TestClient(app):
        pass
    bind_key_dir(other_db, settings.resolved_key_dir())  # nothing changed there


def test_binding_on_postgresql_and_its_default_key_dir(
    database_url: str, db: Database, other_db: Database, tmp_path: Path
) -> None:
    """Runs on both backends; a PostgreSQL URL has no file to sit beside, so its default is
    ./loupe-keys for every database: binding is what keeps two of them apart."""
    pg = "postgresql+psycopg://loupe@db/loupe"
    assert Settings(database_url=pg).resolved_key_dir() == Path("loupe-keys")
    assert Settings(database_url=pg + "2").resolved_key_dir() == Path("loupe-keys")
    key_dir = tmp_path / "loupe-keys"
    bound = bind_key_dir(db, key_dir)
    assert _db_id(db) == bound and bind_key_dir(db, key_dir) == bound
    with pytest.raises(KeyDirMismatch):
        bind_key_dir(other_db, key_dir)


def test_release_unbinds_only_the_database_it_names(
    db: Database, other_db: Database, tmp_path: Path
) -> None:
    """`loupe demo` replacing its own database lets the new one bind the demo's keys."""
    key_dir = tmp_path / "keys"
    bind_key_dir(db, key_dir)
    assert not release_key_dir(other_db, key_dir)  # another database's binding stays
    assert key_dir_id(key_dir) == _db_id(db)
    assert release_key_dir(db, key_dir)
    assert key_dir_id(key_dir) is None
    assert bind_key_dir(other_db, key_dir) == _db_id(other_db)


def test_the_module_example_runs() -> None:
    import doctest

    from loupe.services.compliance import key_binding

    assert doctest.testmod(key_binding).failed == 0
