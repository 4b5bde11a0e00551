"""The engine factory: private database files, hidden SQL parameters, and a clear
one-line error for a database that cannot be written."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError
from tests.factories import make_user

from loupe.cli import main
from loupe.db.database import Database, redacted
from loupe.db.raw import Raw
from loupe.errors import Unavailable
from loupe.settings import Settings
from loupe.web.app import create_app

SECRET = "jane.doe.1984@example.org"
# A duplicate username: PostgreSQL's message would also echo the value in DETAIL.
INSERT_USER = (
    "INSERT INTO users (username, role, display_name, is_active, created_at) "
    "VALUES (:name, 'annotator', :name, TRUE, CURRENT_TIMESTAMP)"
)
# A fault, not a race: no role. PostgreSQL's DETAIL line repeats the whole row.
INSERT_USER_WITHOUT_ROLE = (
    "INSERT INTO users (username, role, display_name, is_active, created_at) "
    "VALUES (:name || '-2', NULL, :name, TRUE, CURRENT_TIMESTAMP)"
)


@pytest.fixture
def umask_022() -> Iterator[None]:
    # A permissive umask, as on most systems: the file mode must not depend on it.
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_0600(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "fresh.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.engine.connect() as connection:  # keeps -wal and -shm in place
        connection.execute(text("SELECT 1"))
        for name in ("fresh.db", "fresh.db-wal", "fresh.db-shm"):
            assert _mode(tmp_path / name) == 0o600, name
    db.dispose()


def test_loupe_init_creates_the_database_0600(
    tmp_path: Path, umask_022: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "loupe.db"
    with pytest.raises(SystemExit) as info:
        main(["init", "--database-url", f"sqlite:///{path}"])
    assert info.value.code in (0, None)
    assert _mode(path) == 0o600


def test_database_errors_never_carry_sql_parameters(
    database_url: str, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(db, SECRET)
    with pytest.raises(IntegrityError) as info, db.transaction() as session:
        session.execute(
            text(INSERT_USER),
            {"name": SECRET},
        )
    assert "parameters hidden" in str(info.value)
    assert SECRET not in redacted(info.value)


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and traceback, as a log file would hold them."""
    return "\n".join(
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )


def test_a_database_error_in_a_request_logs_no_parameters(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    user = make_user(db, SECRET)

    def failing_get_user(session: Any, user_id: int) -> Any:
        session.execute(
            text(INSERT_USER),
            {"name": SECRET},
        )

    monkeypatch.setattr("loupe.web.api.system.get_user", failing_get_user)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/me", headers=user.headers)
    # A unique constraint refusing a row is a lost race (409), still logged without values.
    assert response.status_code == 409
    assert SECRET not in response.text
    logged = _logged(caplog)
    assert "UniqueViolation" in logged or "IntegrityError" in logged
    assert SECRET not in logged


def read_only_url(database_url: str) -> str:
    """The same database through a connection that cannot write (a real read-only
    error from the database, since tests run as root and chmod would not stop it)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    options = url.query.get("options", "")
    assert isinstance(options, str)
    return url.update_query_dict(
        {"options": f"{options} -cdefault_transaction_read_only=on".strip()}
    ).render_as_string(hide_password=False)


def test_a_driver_error_on_the_hot_path_is_logged_without_its_values(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    """Plain SQL (``loupe.db.raw``) fails like SQLAlchemy: the database handler logs it
    without values, where the generic handler printed the driver's message (PostgreSQL's
    DETAIL line repeats them)."""
    user = make_user(db, SECRET)

    def failing_authenticate(session: Any, secret: str, **_: Any) -> Any:
        Raw(session).run(INSERT_USER_WITHOUT_ROLE, name=SECRET)

    monkeypatch.setattr("loupe.web.deps.authenticate", failing_authenticate)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/api/v1/projects/1/tasks/next", headers=user.headers)
    assert response.status_code == 500
    assert SECRET not in response.text
    logged = _logged(caplog)
    assert "unexpected database error" in logged
    assert SECRET not in logged


def test_a_read_only_database_is_one_clear_error(database_url: str) -> None:
    db = Database(read_only_url(database_url))
    db.migrate()  # nothing to migrate: reading works
    with pytest.raises(Unavailable) as info:
        db.check_writable()
    db.dispose()
    assert "read-only" in info.value.message
    assert "writable" in info.value.message
    assert info.value.http_status == 503


def test_the_app_does_not_start_on_a_read_only_database(settings: Settings) -> None:
    readonly = settings.model_copy(update={"database_url": read_only_url(settings.database_url)})
    with pytest.raises(Unavailable, match="read-only"), TestClient(create_app(readonly)):
        pass


def test_serve_on_a_read_only_database_exits_with_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("the server started"))
    monkeypatch.delenv("LOUPE_DATABASE_URL", raising=False)
    url = read_only_url(database_url)
    with pytest.raises(SystemExit) as info:
        main(["serve", "--database-url", url])
    assert info.value.code == Unavailable.exit_code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "read-only" in err
    assert "Traceback" not in err


def test_a_database_that_cannot_be_opened_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "loupe.db"
    with pytest.raises(SystemExit) as info:
        main(["projects", "list", "--database-url", f"sqlite:///{missing}"])
    assert info.value.code == Unavailable.exit_code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(missing) in err
    assert "create its directory" in err


@pytest.mark.parametrize("prepared", [True, False])
def test_prepared_statements_can_be_turned_off_for_a_pooler(
    database_url: str, prepared: bool
) -> None:
    """Behind PgBouncer in transaction mode nothing may be prepared on the server; SQLite
    ignores the setting."""
    db = Database(database_url, pool_size=1, prepared_statements=prepared)
    try:
        with db.engine.connect() as connection:
            for _ in range(10):  # psycopg prepares a statement on its fifth run
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
            if db.engine.dialect.name == "postgresql":
                held = "SELECT count(*) FROM pg_prepared_statements"
                assert (connection.execute(text(held)).scalar_one() > 0) is prepared
    finally:
        db.dispose()


def _synced(session: Any) -> bool:
    """Whether this transaction's commit will be synced to disk."""
    if session.get_bind().dialect.name == "sqlite":
        return bool(session.execute(text("PRAGMA synchronous")).scalar_one() >= 2)  # FULL
    return bool(session.execute(text("SHOW synchronous_commit")).scalar_one() != "off")


def test_only_a_transaction_marked_not_durable_skips_the_sync(database_url: str) -> None:
    """Labels and ledger entries are synced; a lease (``durable=False``) is not, and the
    pooled connection it used syncs again for the next writer."""
    db = Database(database_url, pool_size=1)
    try:
        for _ in range(2):
            with db.transaction(durable=False) as session:
                assert not _synced(session)
            with db.transaction() as session:
                assert _synced(session)
            with db.transaction(readonly=True) as session:
                session.execute(text("SELECT 1"))
            with db.transaction() as session:
                assert _synced(session)
    finally:
        db.dispose()


def test_sqlite_normal_is_normal_for_every_transaction(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'n.db'}", pool_size=1, sqlite_synchronous="normal")
    try:
        for durable in (True, False, True):
            with db.transaction(durable=durable) as session:
                assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1
    finally:
        db.dispose()
