"""Import through the API: one upload of the peer workload's items, against a baseline tree.

    git archive HEAD src | tar -x -C /tmp/loupe-base     # the tree before a change
    .venv/bin/python bench/core/bench_api_import.py --baseline /tmp/loupe-base/src \\
        [--items 10000] [--rounds 2] [--gate-workers 1]

For each tree (this checkout's ``src`` and the baseline, alternating), a fresh
``loupe serve`` on a new SQLite database, an admin, a single-choice project, then one
``POST /projects/{id}/items/import`` of ``--items`` JSON lines, the texts of the peer
workload (``../shared/peers/labelstudio/workload.py``'s ``make_tasks``, the import Label
Studio is measured on; privacy gate on, the default). Prints items/s (wall time of the
request) and the server's CPU seconds over it. ``--gate-workers`` sets
``LOUPE_GATE_WORKERS`` (0: a gate process per core). Issue #18's target: at least Label
Studio's rate on the same machine state (``run_peer_comparison.sh`` measures both).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from server_control import admin_token, wait_ready

HERE = Path(__file__).resolve().parents[2] / "src"
PEERS = Path(__file__).resolve().parents[3] / "shared" / "peers" / "labelstudio"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(src: Path, body: bytes, items: int, gate_workers: int) -> tuple[float, float]:
    """(seconds, server CPU seconds) of one upload to a fresh server from ``src``."""
    work = Path(tempfile.mkdtemp(prefix="loupe-bench-api-import-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "LOUPE_DATABASE_URL": f"sqlite:///{work / 'loupe.db'}",
        "LOUPE_KEY_DIR": str(work / "keys"),
        "LOUPE_GATE_WORKERS": str(gate_workers),
    }
    port = _port()
    with (work / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "loupe", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_ready(server, port, log=work / "server.log")
        token = admin_token(env, "admin")
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as client:
            config = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}
            project = client.post("/projects", json={"name": "p", "config": config})
            project.raise_for_status()
            url = f"/projects/{project.json()['id']}/items/import"
            cpu, started = _cpu(server.pid), time.perf_counter()
            reply = client.post(url, content=body, headers={"Content-Type": "application/x-ndjson"})
            seconds, cpu = time.perf_counter() - started, _cpu(server.pid) - cpu
            reply.raise_for_status()
            if reply.json()["created"] != items:
                sys.exit(f"expected {items} items created, got {reply.json()}")
        return seconds, cpu
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gate-workers", type=int, default=1)
    args = parser.parse_args()
    if not PEERS.is_dir():
        sys.exit(f"skipped: {PEERS} not found (the peer workload lives in ../shared)")
    sys.path.insert(0, str(PEERS))
    from workload import WORKLOAD, make_tasks  # the peer workload's own generator

    low, high = WORKLOAD["words_per_task"]
    tasks = make_tasks(WORKLOAD["seed"], 0, args.items, low, high)
    body = "".join(json.dumps({"id": t["ref"], "text": t["text"]}) + "\n" for t in tasks)
    trees = [("this", HERE)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    print(
        f"{args.items:,} items in one upload; gate workers {args.gate_workers}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for _ in range(args.rounds):
        for label, tree in trees:
            seconds, cpu = run(tree, body.encode(), args.items, args.gate_workers)
            print(
                f"{label:>8}: {seconds:5.2f} s = {args.items / seconds:7,.0f} items/s, "
                f"server CPU {cpu:5.2f} s, load {os.getloadavg()[0]:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
