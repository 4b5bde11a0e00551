"""Server CPU per labelling loop over HTTP: a baseline tree against this one, alternately.

    python bench/core/bench_http_loop.py                         # baseline /tmp/loupe-base2/src
    python bench/core/bench_http_loop.py --baseline-src OTHER/src --rounds 3
    python bench/core/bench_http_loop.py --profile bench/results/http-loop-profile

Each run starts a fresh server (``python -m loupe serve``, one process, SQLite with
the default ``synchronous=FULL`` unless ``--synchronous normal``) from one source tree,
chosen by ``PYTHONPATH`` with the same interpreter, on a new database, and runs the
peer workload unchanged (``../shared/peers/labelstudio/workload.py`` with
``adapter_loupe.py``): one project of ``--items`` items imported through the API, then
closed-loop annotators (next task + submit, zero think time) at 1, 8 and 32 clients.
Baseline and new runs alternate (B N N B B N ...), so a change in the machine's load
falls on both. Printed per run and level: the server's CPU per loop (utime + stime of
the server process over the level, the figure to judge on a shared machine), loops/s,
next-task and submit p50/p99, the 1-minute load average before the level and the CPU
that other processes used meanwhile (cores).

``--profile DIR`` samples the server of every run with py-spy (``PYSPY`` or ``py-spy``
on ``PATH``; all threads, native frames off) and writes the collapsed stacks and a
summary of the functions that hold most samples per tree to DIR.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEERS = REPO.parent / "shared" / "peers" / "labelstudio"
sys.path.insert(0, str(HERE))

from run_workload import free_port  # noqa: E402
from server_control import admin_token, wait_ready  # noqa: E402


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            os.environ.get("PYSPY", "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes what it has
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


def run_once(src: Path, args: argparse.Namespace, tag: str, out_dir: Path) -> dict[str, Any]:
    """One fresh server from ``src``, the workload against it; the workload's JSON."""
    work = Path(tempfile.mkdtemp(prefix="loupe-http-loop-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "LOUPE_DATABASE_URL": f"sqlite:///{work}/loupe.db",
        "LOUPE_SQLITE_SYNCHRONOUS": args.synchronous,
        "LOUPE_KEY_DIR": str(work / "keys"),
    }
    port = free_port()
    log = work / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "loupe", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    spy: subprocess.Popen[bytes] | None = None
    try:
        wait_ready(server, port, log=log, poll_s=0.05)
        token = admin_token(env)
        out = out_dir / f"{tag}.json"
        workload = subprocess.Popen(
            [
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
                str(out),
                "--import-sizes",
                str(args.items),
                "--concurrency",
                args.concurrency,
                "--duration",
                str(args.duration),
                "--note",
                f"{tag}: {src}",
            ],
            env={**env, "PYTHONPATH": f"{HERE}{os.pathsep}{PEERS}"},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert workload.stdout is not None
        levels = len(args.concurrency.split(","))
        for line in workload.stdout:
            # Profile the loops only: the import (the privacy gate) and the export are
            # other benchmarks'.
            if line.startswith("[import]") and args.profile:
                spy = start_profiler(server.pid, args.profile / f"{tag}.txt")
            elif line.startswith("[loop]"):
                levels -= 1
                if levels == 0 and spy is not None:
                    stop_profiler(spy)
                    spy = None
        if workload.wait() != 0:
            sys.exit(f"workload failed ({tag})")
        return dict(json.loads(out.read_text()))
    finally:
        if spy is not None:
            stop_profiler(spy)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


# Frames where a thread waits rather than runs (py-spy counts some lock waits as active).
IDLE = (
    "select (",
    "Condition.wait (",
    "_configure_sqlite.<locals>._on_begin (loupe/db/engine.py:151)",
    "Runner.run (asyncio/runners.py",
)


def summarise_profile(path: Path, top: int = 40) -> str:
    """Own and inclusive sample shares of the functions in py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        # Idle threads (waiting on a lock, selecting) are not CPU: keep active stacks only.
        if frames[-1].startswith(IDLE):
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            incl[frame] += n
    lines = [f"{path.name}: {total} active samples", "inclusive:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in incl.most_common(top)]
    lines += ["own:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--baseline-src", type=Path, default=Path("/tmp/loupe-base2/src"))
    ap.add_argument("--new-src", type=Path, default=REPO / "src")
    ap.add_argument("--rounds", type=int, default=2, help="baseline/new pairs")
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    ap.add_argument("--synchronous", choices=["full", "normal"], default="full")
    ap.add_argument("--profile", type=Path, help="py-spy the servers; stacks go here")
    ap.add_argument("--only", choices=["baseline", "new"], help="run one tree only")
    args = ap.parse_args()
    if not PEERS.is_dir():
        sys.exit(f"skipped: {PEERS} not found (the peer workload lives in ../shared)")
    if not (args.baseline_src / "loupe").is_dir():
        sys.exit(f"no baseline tree at {args.baseline_src}: see the docstring")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    out_dir = REPO / "bench" / "results" / "http-loop"
    out_dir.mkdir(parents=True, exist_ok=True)
    trees = {"baseline": args.baseline_src.resolve(), "new": args.new_src.resolve()}
    order: list[str] = []
    for r in range(args.rounds):
        pair = ["baseline", "new"] if r % 2 == 0 else ["new", "baseline"]
        order += [t for t in pair if args.only in (None, t)]
    print(
        f"# {args.items} items, clients {args.concurrency}, {args.duration:g} s per level, "
        f"synchronous={args.synchronous}; baseline {trees['baseline']}, new {trees['new']}"
    )
    header = (
        f"{'run':<12} {'c':>3} {'CPU ms/loop':>11} {'loops/s':>8} {'next p50/p99 ms':>17} "
        f"{'submit p50/p99 ms':>18} {'load':>5} {'others':>6}"
    )
    print(header, flush=True)
    rows: dict[str, list[dict[str, Any]]] = {"baseline": [], "new": []}
    for i, name in enumerate(order):
        tag = f"{i + 1}-{name}"
        result = run_once(trees[name], args, tag, out_dir)
        for level in result["phases"]["loops"]:
            rows[name].append(level)
            print(
                f"{tag:<12} {level['concurrency']:>3} {level['server_cpu_ms_per_loop']:>11} "
                f"{level['loops_per_s']:>8} "
                f"{level['next']['p50_ms']:>8}/{level['next']['p99_ms']:<8} "
                f"{level['submit']['p50_ms']:>8}/{level['submit']['p99_ms']:<9} "
                f"{level['loadavg_before'].split()[0]:>5} {level['other_procs_busy_cores']:>6}",
                flush=True,
            )
            if level["errors"] or level["tasks_labeled_by_more_than_one_client"]:
                print(f"  !! errors {level['errors']}, double assignments "
                      f"{level['tasks_labeled_by_more_than_one_client']}")  # fmt: skip
    print("\n# ranges over runs (min-max)")
    for name, levels in rows.items():
        by_c: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        for level in levels:
            by_c[level["concurrency"]].append(level)
        for c, ls in sorted(by_c.items()):

            def rng(key: Any, ls: list[dict[str, Any]] = ls) -> str:
                vals = sorted(key(x) for x in ls)
                return f"{vals[0]:g}-{vals[-1]:g}" if vals[0] != vals[-1] else f"{vals[0]:g}"

            print(
                f"{name:<9} c={c:<3} CPU ms/loop {rng(lambda x: x['server_cpu_ms_per_loop'])}, "
                f"loops/s {rng(lambda x: x['loops_per_s'])}, "
                f"next p99 {rng(lambda x: x['next']['p99_ms'])} ms, "
                f"submit p99 {rng(lambda x: x['submit']['p99_ms'])} ms, "
                f"load {rng(lambda x: float(x['loadavg_before'].split()[0]))}, "
                f"others {rng(lambda x: x['other_procs_busy_cores'])} cores"
            )
    if args.profile:
        for tag_file in sorted(args.profile.glob("*.txt")):
            summary = summarise_profile(tag_file)
            (tag_file.with_suffix(".summary")).write_text(summary + "\n")
        print(f"\nprofiles: {args.profile}")


if __name__ == "__main__":
    main()
