"""Run the peer workload (Label Studio's, unchanged) against a fresh Loupe server.

    python bench/core/run_workload.py                       # SQLite, full workload
    python bench/core/run_workload.py --quick               # ~1 minute smoke run
    python bench/core/run_workload.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Measures cold start (new database + migrations -> first HTTP 200), then runs
../shared/peers/labelstudio/workload.py with the Loupe adapter beside this file,
sampling the server's RSS and CPU. Results: bench/results/core-<tag>/workload.json.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_control import admin_token, wait_ready

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEERS = REPO.parent / "shared" / "peers" / "labelstudio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("workload_args", nargs="*", help="passed to workload.py after --")
    args = ap.parse_args()
    if not PEERS.is_dir():
        sys.exit(f"skipped: {PEERS} not found (the peer workload lives in ../shared)")

    work = Path(tempfile.mkdtemp(prefix="loupe-bench-"))
    url = args.database_url or f"sqlite:///{work}/loupe.db"
    if url.startswith("postgresql"):
        reset_postgres(url)
    port = free_port()
    env = {**os.environ, "LOUPE_DATABASE_URL": url}
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loupe",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "server.log", "w"),  # noqa: SIM115  (lives as long as the server)
    )
    try:
        wait_ready(server, port, log=work / "server.log")
        cold_start = time.perf_counter() - t0
        print(
            f"[start] cold start (new database, migrations) -> first 200: {cold_start:.2f} s",
            flush=True,
        )
        token = admin_token(env)
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        tag = args.tag or f"{backend}-w{args.workers}{'-quick' if args.quick else ''}"
        results = REPO / "bench" / "results" / f"core-{tag}"
        results.mkdir(parents=True, exist_ok=True)
        (results / "startup.json").write_text(
            json.dumps({"cold_start_s": round(cold_start, 3), "database": backend})
        )
        cmd = [
            sys.executable,
            str(PEERS / "workload.py"),
            "--adapter",
            "loupe",
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--token",
            token,
            "--server-pid",
            str(server.pid),
            "--out",
            str(results / "workload.json"),
            "--note",
            f"loupe {backend}, {args.workers} worker(s)",
        ]
        if args.quick:
            cmd.append("--quick")
        cmd += args.workload_args
        subprocess.run(cmd, env={**env, "PYTHONPATH": f"{HERE}{os.pathsep}{PEERS}"}, check=True)
        print(f"[done] results in {results}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
