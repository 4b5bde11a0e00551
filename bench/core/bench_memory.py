"""Memory per server worker under a short workload, against a baseline tree.

    git archive HEAD src | tar -x -C /tmp/loupe-base     # or any older checkout
    .venv/bin/python bench/core/bench_memory.py --baseline /tmp/loupe-base/src [--workers 1 2 4]

For this checkout's ``src`` and (optionally) a baseline ``src``, run with the same
interpreter and virtualenv, it starts ``loupe serve --workers N`` on a new SQLite
database, then drives a short workload that passes the privacy gate in every
worker: imports of items with names, addresses and phone numbers from several
connections at once (each import scans its items in the worker that takes it),
then next-task / submit cycles by two annotators. It then reads, for each server
process, from ``/proc/<pid>/smaps_rollup``:

* RSS: resident pages, shared ones counted in full in every process;
* PSS: each shared page divided by the number of processes that map it, so the
  sum of PSS over the processes is what the server really occupies.

The memory-mapped word lists (``*.lex`` in ``LOUPE_CACHE_DIR``) are built before
the run so the figures are the steady state; a fresh cache directory is used and
removed afterwards. Target (issue #18): ≤ 200 MB per worker.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from server_control import admin_token, wait_ready

HERE = Path(__file__).resolve().parents[2] / "src"
TEXTS = (
    "Please call Maria Schmidt on +49 30 1234567 about the Heizung in Köln.",
    "Zebulon Quarrington wrote from 12 Rue de Rivoli, Paris, about his order.",
    "王小明说他马上到。Contact Ana García at ana.garcia@example.org.",
    "The delivery was late and the box was damaged, no refund yet.",
    "Jolene Swantje asked whether Itziar Etxeberria could cover the shift.",
)


def _env(src: Path, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(src),
        "LOUPE_DATABASE_URL": f"sqlite:///{work / 'loupe.db'}",
        "LOUPE_KEY_DIR": str(work / "keys"),
        "LOUPE_MODEL_DIR": str(work / "models"),
        "LOUPE_CACHE_DIR": str(work / "cache"),
    }


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _memory(pid: int) -> tuple[float, float, bool]:
    """(RSS MiB, PSS MiB, whether the process maps a lexicon file)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    mapped = ".lex" in Path(f"/proc/{pid}/maps").read_text()
    return fields["Rss"], fields["Pss"], mapped


def _python(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"python" in cmdline and b"resource_tracker" not in cmdline


def _workload(base: str, token: str, workers: int) -> None:
    admin = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=admin, timeout=120) as c:
        config = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}
        project = c.post("/projects", json={"name": "mem", "config": config, "overlap": 1})
        project.raise_for_status()
        pid = project.json()["id"]
        people = []
        for i in range(2):
            user = c.post("/users", json={"username": f"mem-{i}", "role": "annotator"})
            user.raise_for_status()
            uid = user.json()["id"]
            c.put(f"/projects/{pid}/members/{uid}", json={"role": "annotator"}).raise_for_status()
            t = c.post(f"/users/{uid}/tokens", json={"name": "mem"})
            t.raise_for_status()
            people.append({"Authorization": f"Bearer {t.json()['token']}"})

    def import_batch(batch: int) -> None:
        body = "".join(
            f'{{"id": "b{batch}-{i}", "text": "{TEXTS[i % len(TEXTS)]} #{batch}-{i}"}}\n'
            for i in range(40)
        )
        # A new connection each time, so that the kernel spreads them over the workers.
        with httpx.Client(base_url=base, headers=admin, timeout=120) as fresh:
            r = fresh.post(
                f"/projects/{pid}/items/import",
                content=body.encode(),
                headers={"Content-Type": "application/x-ndjson"},
            )
            r.raise_for_status()

    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        list(pool.map(import_batch, range(6 * workers)))
    rng = random.Random(0)  # mixed answers: one that always gives "b" is paused
    with httpx.Client(base_url=base, timeout=120) as c:
        for n in range(100):
            who = people[n % 2]
            r = c.post(f"/projects/{pid}/tasks/next", headers=who)
            if r.is_error:
                raise SystemExit(f"next task: {r.status_code} {r.text}")
            task = r.json()["task"]
            if task is None:
                break
            c.post(
                f"/projects/{pid}/items/{task['item_id']}/labels",
                json={"answer": rng.choice("ab"), "lead_time_ms": 1000},
                headers=who,
            ).raise_for_status()


def run(src: Path, workers: int) -> list[tuple[float, float, bool]]:
    """Per server process (RSS MiB, PSS MiB, maps a lexicon) after the workload."""
    work = Path(tempfile.mkdtemp(prefix="loupe-mem-"))
    env = _env(src, work)
    try:
        # Build the shared lexicon files first (where this tree has them): steady state.
        warm = "from loupe.privacy import Scanner; Scanner().scan('Maria Schmidt')"
        subprocess.run([sys.executable, "-c", warm], env=env, check=True)
        port = _port()
        serve = ["serve", "--port", str(port), "--workers", str(workers)]
        server = subprocess.Popen(
            [sys.executable, "-m", "loupe", *serve],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            wait_ready(server, port, poll_s=0.05)
            _workload(base, admin_token(env, "mem-admin"), workers)
            return [_memory(p) for p in _tree(server.pid) if _python(p)]
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="a baseline tree's src directory")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    trees = [("this tree", HERE)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(
        "| tree | workers | processes | RSS per process, MiB | PSS per process, MiB "
        "| PSS total, MiB | lexicon mapped |"
    )
    print("|---|---|---|---|---|---|---|")
    for workers in args.workers:
        for name, src in trees:
            procs = run(src, workers)
            rss = [p[0] for p in procs]
            pss = [p[1] for p in procs]
            mapped = sum(p[2] for p in procs)
            print(
                f"| {name} | {workers} | {len(procs)} "
                f"| {' / '.join(f'{v:.0f}' for v in rss)} "
                f"| {' / '.join(f'{v:.0f}' for v in pss)} "
                f"| {sum(pss):.0f} | {mapped} of {len(procs)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
