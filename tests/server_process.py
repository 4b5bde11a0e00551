"""Start ``loupe serve`` in a subprocess and wait until it answers: no fixed deadline
(a loaded machine may take long to start), only the test's overall pytest timeout;
a server that exits before it is ready fails the test at once with its log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

__all__ = ["free_port", "serve", "wait_until_ready"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll ``/api/v1/health`` until it answers 200, for as long as the process lives."""
    url = f"http://127.0.0.1:{port}/api/v1/health"
    while True:
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited ({process.returncode}) before it was ready:\n"
                f"{log.read_text(errors='replace')}"
            )
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # a polling interval, not a deadline


@contextmanager
def serve(
    database_url: str,
    port: int,
    log: Path,
    *,
    args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``loupe serve`` on ``port``, ready when entered; killed (SIGKILL) on exit."""
    environment = {**os.environ, "LOUPE_DATABASE_URL": database_url, **(env or {})}
    # Keys belong to one database: a PostgreSQL test's default ./loupe-keys would be bound
    # to the first test database and refuse the next.
    environment.setdefault("LOUPE_KEY_DIR", str(log.parent / "loupe-keys"))
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "loupe", "serve", "--port", str(port), *args],
            env=environment,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # its workers can be killed with it
        )
    try:
        wait_until_ready(process, port, log)
        yield process
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
