"""What the server benchmarks share: wait until a ``loupe serve`` answers, and make an admin.

Imported by the scripts beside it (``python bench/core/<script>.py`` puts this folder on
``sys.path``); the runs' own logic stays in each script.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def wait_ready(
    server: subprocess.Popen[bytes], port: int, *, log: Path | None = None, poll_s: float = 0.02
) -> None:
    """Poll ``/api/v1/health`` until it answers 200, however long start-up takes (no
    deadline: readiness, not a timer); exit with the server's log if it dies first."""
    url = f"http://127.0.0.1:{port}/api/v1/health"
    while True:
        try:
            if httpx.get(url, timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            told = log.read_text() if log is not None and log.exists() else ""
            sys.exit(f"loupe serve exited with {server.returncode}: {told[-3000:]}")
        time.sleep(poll_s)


def admin_token(env: Mapping[str, str], username: str = "bench-admin") -> str:
    """Create an admin with ``loupe users create`` (in the server's environment) and return
    its API token (the command's last line)."""
    made = subprocess.run(
        [sys.executable, "-m", "loupe", "users", "create", username, "--role", "admin"],
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip().splitlines()[-1].strip()
