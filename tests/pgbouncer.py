"""Run PgBouncer in transaction mode in front of a PostgreSQL database, for a test or
a benchmark: a temporary configuration on a free port, trust authentication, ready when
entered (no fixed deadline: it polls until a query goes through), stopped on exit.

The test database's schema, which the test URL selects with a ``search_path`` startup
option PgBouncer does not pass on, is set on each server connection by ``connect_query``
(the same for every client of the pool, so no session state travels between clients).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote

import psycopg
from sqlalchemy.engine import make_url
from tests.server_process import free_port

__all__ = ["installed", "pgbouncer"]

ALIAS = "loupe"


def installed() -> str | None:
    """The ``pgbouncer`` executable, or ``None``."""
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None
    )


def _search_path(options: str | None) -> str | None:
    for option in (options or "").split():
        key, _, value = option.removeprefix("-c").partition("=")
        if key == "search_path":
            return value
    return None


def _config(database_url: str, port: int, folder: Path, pool_size: int) -> str:
    url = make_url(database_url)
    options = url.query.get("options")
    schema = _search_path(unquote(options) if isinstance(options, str) else None)
    target = (
        f"host={url.host or '127.0.0.1'} port={url.port or 5432} "
        f"dbname={url.database} user={url.username or 'postgres'}"
    )
    if schema:
        target += f" connect_query='SET search_path TO {schema}'"
    return "\n".join(
        [
            "[databases]",
            f"{ALIAS} = {target}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {folder / 'users.txt'}",
            "pool_mode = transaction",
            f"default_pool_size = {pool_size}",
            "max_client_conn = 1000",
            "ignore_startup_parameters = extra_float_digits,options",
            "log_connections = 0",
            "log_disconnections = 0",
            "",
        ]
    )


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    while True:
        if process.poll() is not None:
            raise AssertionError(
                f"pgbouncer exited ({process.returncode}):\n"
                f"{log.read_text(errors='replace') if log.exists() else ''}"
            )
        try:
            with psycopg.connect(url, connect_timeout=5, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            time.sleep(0.05)  # a polling interval, not a deadline


@contextmanager
def pgbouncer(database_url: str, folder: Path, *, pool_size: int = 20) -> Iterator[str]:
    """PgBouncer (transaction mode) in front of ``database_url``; yields the URL to use
    instead (``postgresql+psycopg://...``), which keeps the target's ``search_path``."""
    executable = installed()
    assert executable, "pgbouncer is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(_config(database_url, port, folder, pool_size))
    user = make_url(database_url).username or "postgres"
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    command = [executable, str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (folder, config, folder / "users.txt"):
            path.chmod(0o777 if path.is_dir() else 0o644)
        command.insert(1, "--user=postgres")
    log = folder / "pgbouncer.log"
    with log.open("ab") as sink:  # its start-up errors, before it opens its log file
        process = subprocess.Popen(command, stdout=sink, stderr=sink, start_new_session=True)
    plain = f"postgresql://{user}@127.0.0.1:{port}/{ALIAS}"
    try:
        _wait_until_ready(process, plain, log)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/{ALIAS}"
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        process.wait()
