"""``loupe serve``: workers are not killed for starting slowly, and a worker's death
is one clear line at the default log level."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url
from tests.server_process import free_port, serve

from loupe.cli import main
from loupe.cli.serving import WORKER_HEALTHCHECK_S, WorkerEvents


@pytest.fixture(autouse=True)
def _own_key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # PostgreSQL's default ./loupe-keys would be bound to the first test database and
    # refuse the next (keys belong to one database).
    monkeypatch.setenv("LOUPE_KEY_DIR", str(tmp_path / "loupe-keys"))


def run_serve(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, dict[str, Any] | None]:
    import uvicorn

    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: captured.update(kwargs))
    try:
        main(["serve", *argv])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, captured or None


def test_workers_get_a_health_check_that_waits_for_a_slow_start(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, options = run_serve(monkeypatch, "--database-url", database_url, "--workers", "2")
    assert code == 0 and options is not None
    assert options["workers"] == 2
    # uvicorn's default (5 s) killed workers still importing on a loaded machine.
    assert options["timeout_worker_healthcheck"] == WORKER_HEALTHCHECK_S >= 60
    assert options["log_level"] is None  # the filter below applies the level
    handler_filters = {
        tuple(handler.get("filters", ())) for handler in options["log_config"]["handlers"].values()
    }
    assert handler_filters == {("workers",)}
    assert options["log_config"]["filters"]["workers"]["level"] == "warning"


def test_the_server_loads_no_websocket_library(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """Loupe has no WebSocket route: uvicorn's default (``ws="auto"``) imported the
    websockets library at every start (~50 ms of CPU) to refuse upgrades."""
    code, options = run_serve(monkeypatch, "--database-url", database_url)
    assert code == 0 and options is not None
    assert options["ws"] == "none"


@pytest.mark.parametrize("workers", [1, 2])
def test_the_collector_is_off_only_while_the_server_process_starts(
    monkeypatch: pytest.MonkeyPatch, database_url: str, workers: int
) -> None:
    import gc

    import uvicorn

    enabled: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: enabled.append(gc.isenabled()))
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--database-url", database_url, "--workers", str(workers)])
    assert not exited.value.code
    # One worker: this process builds the app, and create_app_from_env turns it back on;
    # several: this process only supervises them.
    assert enabled == [workers > 1]
    assert gc.isenabled()


def test_the_server_factory_freezes_start_up_and_turns_the_collector_on(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    import gc

    from loupe.web.app import create_app_from_env

    monkeypatch.setenv("LOUPE_DATABASE_URL", database_url)
    monkeypatch.setenv("LOUPE_MODEL_DIR", str(tmp_path / "models"))
    gc.disable()
    try:
        create_app_from_env()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_an_unknown_log_level_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, options = run_serve(monkeypatch, "--database-url", database_url, "--log-level", "loud")
    assert code == 2
    assert options is None
    assert "--log-level must be one of" in capsys.readouterr().err


def test_a_dead_worker_is_a_warning_whatever_the_level() -> None:
    died = logging.LogRecord(
        "uvicorn.error", logging.INFO, "", 0, "Child process [7] died", None, None
    )
    assert WorkerEvents("error").filter(died)
    assert died.levelno == logging.WARNING
    assert died.getMessage() == "worker process 7 died; starting a new one"
    quiet = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started server", None, None)
    assert not WorkerEvents("warning").filter(quiet)
    assert WorkerEvents("info").filter(quiet)


def _workers(parent: int) -> set[int]:
    """The pids of ``parent``'s uvicorn worker processes (not multiprocessing's helpers)."""
    found = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                found.add(int(pid))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_serve_with_two_workers_logs_a_dead_worker_and_replaces_it(
    database_url: str, tmp_path: Path
) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the supervisor does not depend on the database")
    port, log = free_port(), tmp_path / "serve.log"
    with serve(database_url, port, log, args=("--workers", "2")) as process:
        while len(workers := _workers(process.pid)) < 2:  # both started
            time.sleep(0.05)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        # Wait (no deadline) until the supervisor has replaced it.
        while victim in (now := _workers(process.pid)) or len(now) < 2:
            assert process.poll() is None, log.read_text()
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=30).status_code == 200
    lines = log.read_text().splitlines()
    assert any(f"worker process {victim} died; starting a new one" in line for line in lines), lines


def test_the_start_line_never_prints_the_database_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line goes to the server's log (a container's stdout, a journal): a password
    in it would open the database, and every item in it, to whoever reads the logs."""
    from contextlib import contextmanager

    from loupe.cli import session
    from loupe.db.database import Database
    from loupe.services.compliance import key_binding

    url = "postgresql+psycopg://loupe:s3cret-pw@db.invalid/loupe"

    @contextmanager
    def unreachable(database_url: str | None = None) -> Any:
        db = Database(url)
        monkeypatch.setattr(db, "check_writable", lambda: None)
        yield db

    monkeypatch.setattr(session, "open_database", unreachable)
    monkeypatch.setattr(key_binding, "bind_key_dir", lambda db, key_dir: None)
    code, _ = run_serve(monkeypatch, "--database-url", url)
    out = capsys.readouterr().out
    assert code == 0
    assert "s3cret-pw" not in out
    assert "postgresql+psycopg://loupe:***@db.invalid/loupe" in out.replace("\n", "")
