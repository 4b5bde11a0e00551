"""Start-up: ``loupe --help`` and the server's cold start, against a baseline tree.

    git archive HEAD src | tar -x -C /tmp/loupe-base     # or any older checkout
    .venv/bin/python bench/core/bench_startup.py --baseline /tmp/loupe-base/src [--runs 5]

For this checkout's ``src`` and (optionally) a baseline ``src`` run with the same
interpreter and virtualenv, in alternation, it prints the median and range of:

* ``loupe --help``: wall time, CPU time and peak RSS of the whole process;
* cold start: ``loupe serve`` on a new SQLite database (migrations included), and
  again on that existing database, from spawning the process to the first 200
  from ``/api/v1/health``, with the CPU the server used until then;
* the same with ``--workers 2``.

Targets (issue #18): ``--help`` ≤ 0.3 s and ≤ 60 MB; first 200 ≤ 1 s on a quiet core.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from server_control import wait_ready

HERE = Path(__file__).resolve().parents[2] / "src"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


#: Bytecode caches for both trees, as an installed package has them: without them
#: (a shell with PYTHONDONTWRITEBYTECODE=1) every run compiles ~0.3 s of sources.
PYCACHE = tempfile.mkdtemp(prefix="loupe-bench-pycache-")


def _env(src: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": PYCACHE, **extra}


def help_run(src: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of ``python -m loupe --help``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "loupe", "--help"],
        env=_env(src),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its children so far (utime + stime, reaped included)."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def serve_run(src: Path, database: Path, workers: int) -> tuple[float, float]:
    """(seconds to the first 200, server CPU seconds until then) for ``loupe serve``."""
    port = _port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "loupe", "serve", "--port", str(port), "--workers", str(workers)],
        env=_env(
            src,
            LOUPE_DATABASE_URL=f"sqlite:///{database}",
            LOUPE_KEY_DIR=str(database.parent / "keys"),
            LOUPE_MODEL_DIR=str(database.parent / "models"),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(process, port, poll_s=0.01)
        return time.perf_counter() - started, _cpu(process.pid)
    finally:
        os.killpg(process.pid, 9)
        process.wait()


def _summary(values: Sequence[float], unit: str, digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="a baseline tree's src directory")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker counts to start"
    )
    args = parser.parse_args()
    trees = {"this tree": HERE}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    print(
        f"python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}; "
        f"{os.cpu_count()} CPUs; {args.runs} runs each, trees alternating; "
        f"bytecode cached under {PYCACHE}"
    )

    def measure(name: str, run: Callable[[Path], tuple[float, ...]], units: Sequence[str]) -> None:
        results: dict[str, list[tuple[float, ...]]] = {tree: [] for tree in trees}
        run(HERE)  # warm the file cache and .pyc files
        if "baseline" in trees:
            run(trees["baseline"])
        for _ in range(args.runs):
            for tree, src in trees.items():
                results[tree].append(run(src))
        for tree, rows in results.items():
            columns = ", ".join(
                _summary([row[i] for row in rows], unit) for i, unit in enumerate(units)
            )
            print(f"{name:<42} {tree:<10} {columns}")

    measure("loupe --help: wall, CPU, peak RSS", help_run, ("s", "s CPU", "MiB"))

    def cold(workers: int, existing: bool) -> Callable[[Path], tuple[float, ...]]:
        def run(src: Path) -> tuple[float, ...]:
            database = Path(tempfile.mkdtemp()) / "loupe.db"
            if existing:
                serve_run(src, database, 1)  # creates and migrates it
            return serve_run(src, database, workers)

        return run

    for workers in args.workers:
        for existing in (False, True):
            label = f"serve --workers {workers}, {'existing' if existing else 'new'} db → 200"
            measure(label, cold(workers, existing), ("s", "s CPU"))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
