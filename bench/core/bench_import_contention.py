"""Annotators' latency while a large import runs (issue 18: no freezes).

    .venv/bin/python bench/core/bench_import_contention.py [--items 100000]
        [--annotators 8] [--quiet-seconds 10] [--postgres postgresql://postgres@127.0.0.1/test]
        [--skip-baseline] [--skip-sqlite]

Eight annotator threads loop next-task + submit through the services (one
``Database``, as bench/core/bench_service_loop.py) on one project, and the
latency of each loop (two transactions) is recorded:

1. **quiet**: no import, for ``--quiet-seconds``;
2. **import**: while ``import_records`` (what ``loupe import`` and the API use)
   imports ``--items`` items into a second project, privacy gate and vault on:
   the gate runs in a read-only transaction, batches of 500 commit on their own;
3. **baseline** (the code path before issue 18, still callable): the same import
   through ``insert_items`` in one writer session committing every 5,000 rows, the
   gate running inside the write transaction (the old CLI; the old API upload
   committed once at the end, which is worse).

An import shortens the GIL's switch interval while it runs
(``loupe.services.projects.switch_interval``); ``--switch-interval 0.005`` keeps Python's.
Prints p50/p99/max per phase and loops done, on SQLite and (with ``--postgres``,
which creates and drops its own database) on PostgreSQL. Target: p99 <= 200 ms
while the import runs. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loupe.db.database import Database
from loupe.formats import ItemRecord, parse_item
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people import users
from loupe.services.projects import definition, items, switch_interval
from loupe.services.projects.imports import import_records
from loupe.settings import Settings

TASK = {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}
WORDS = ["call mum", "play jazz", "the station", "ana@example.org", "coffee", "+44 20 7946 0958"]


def records(n: int, prefix: str) -> list[ItemRecord]:
    return [
        parse_item(
            {"id": f"{prefix}{i}", "text": f"{WORDS[i % 6]} {i} {WORDS[(i * 7) % 6]}"},
            where="bench",
            text_field="text",
        )
        for i in range(n)
    ]


def setup(db: Database, annotators: int, work_items: int) -> tuple[int, list[Actor], int]:
    system = Actor.system()
    with db.transaction() as session:
        work = definition.create_project(session, system, name="work", config={"task": TASK})
        set_privacy(session, system, work.id, gate=False)
        actors = []
        for n in range(annotators):
            user = users.create_user(session, system, username=f"a{n}", role="annotator")
            definition.add_member(session, system, work.id, user_id=user.id, role="annotator")
            actors.append(Actor(user.id, f"a{n}", "annotator"))
        pending = records(work_items, "w")
        for start in range(0, len(pending), 5000):  # PostgreSQL takes <= 65,535 parameters
            items.insert_items(session, system, work.id, pending[start : start + 5000])
    return work.id, actors, 0


def annotate(
    db: Database, actor: Actor, project_id: int, stop: threading.Event, out: list[float]
) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        with db.transaction() as session:
            found = next_task(session, actor, project_id, lease_seconds=60)
            assert found is not None, "the work project ran out of items"
        with db.transaction() as session:
            submit_label(session, actor, project_id, found.item_id, "a")
        out.append(time.perf_counter() - started)


def phase(
    db: Database, actors: list[Actor], project_id: int, work: Callable[[], None]
) -> tuple[list[float], float]:
    """Latencies of every annotator loop while ``work`` runs, and how long it ran."""
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in actors]
    threads = [
        threading.Thread(target=annotate, args=(db, actor, project_id, stop, out))
        for actor, out in zip(actors, latencies, strict=True)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    try:
        work()
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
    return [x for out in latencies for x in out], elapsed


def report(name: str, latencies: list[float], elapsed: float, extra: str = "") -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"  {name:<9} {len(ordered):>6} loops in {elapsed:6.1f} s ({len(ordered) / elapsed:5.0f}/s)"
        f"  p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:7.1f} ms"
        f"  max {ordered[-1] * 1000:7.1f} ms{extra}",
        flush=True,
    )


def run(url: str, key_dir: Path, args: argparse.Namespace) -> None:
    db = Database(url, pool_size=args.annotators + 4)
    db.migrate()
    system = Actor.system()
    # Enough open items for the annotators at ~1,000 loops/s for the whole run.
    work, actors, _ = setup(db, args.annotators, args.work_items)
    with db.transaction() as session:
        target = definition.create_project(session, system, name="target", config={"task": TASK})
        old = definition.create_project(session, system, name="old", config={"task": TASK})
    settings = Settings(database_url=url, key_dir=key_dir)

    phase(db, actors, work, lambda: time.sleep(1.0))  # warm-up: first calls load modules
    quiet, elapsed = phase(db, actors, work, lambda: time.sleep(args.quiet_seconds))
    report("quiet", quiet, elapsed)

    batch = records(args.items, "i")
    with gate_for(settings, workers=args.gate_workers) as gate:

        def new_path() -> None:
            done = import_records(db, system, target.id, batch, gate=gate)
            assert done.created == args.items

        during, elapsed = phase(db, actors, work, new_path)
        report("import", during, elapsed, f"  ({args.items / elapsed:,.0f} items/s imported)")

        if not args.skip_baseline:

            def old_path() -> None:
                # Before issue 18: the gate ran inside the write transaction.
                with db.transaction() as session:
                    for start in range(0, len(batch), 5000):
                        items.insert_items(
                            session, system, old.id, batch[start : start + 5000], gate=gate
                        )
                        session.commit()

            during, elapsed = phase(db, actors, work, old_path)
            report("baseline", during, elapsed, f"  ({args.items / elapsed:,.0f} items/s imported)")
    for label, src in (("cli-base", args.cli_baseline), ("cli", args.cli_src)):
        if src is not None:
            during, elapsed = phase(
                db, actors, work, lambda src=src: cli_import(url, key_dir, src, args)
            )
            report(label, during, elapsed, f"  ({args.items / elapsed:,.0f} items/s imported)")
    db.dispose()


def cli_import(url: str, key_dir: Path, src: Path, args: argparse.Namespace) -> None:
    """``loupe import`` of a fresh project from ``src`` in another process: its writes
    and the annotators' meet at SQLite's file lock, not at this process's writer lock."""
    work = Path(tempfile.mkdtemp(prefix="loupe-contention-cli-"))
    name = work.name
    rows = work / "items.jsonl"
    with rows.open("w") as out:
        for record in records(args.items, "c"):
            out.write(json.dumps({"id": record.external_id, "text": record.data["text"]}) + "\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "LOUPE_DATABASE_URL": url,
        "LOUPE_KEY_DIR": str(key_dir),
    }
    loupe = [sys.executable, "-m", "loupe"]
    subprocess.run([*loupe, "projects", "create", name, "--labels", "a,b"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run(
        [*loupe, "import", name, str(rows), "--workers", str(args.gate_workers)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--quiet-seconds", type=float, default=10.0)
    parser.add_argument("--work-items", type=int, default=150_000)
    parser.add_argument("--gate-workers", type=int, default=1)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--cli-src",
        type=Path,
        default=None,
        help="also import with `loupe import` in another process, from this source tree "
        "(this checkout's: src)",
    )
    parser.add_argument(
        "--cli-baseline", type=Path, default=None, help="the same from a baseline tree, first"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=switch_interval.IMPORT_SWITCH_INTERVAL_S,
        help="the GIL's switch interval in seconds while the import runs: Loupe's by "
        "default; 0.005 is Python's own (imports before 2026-12-06)",
    )
    args = parser.parse_args()
    switch_interval.IMPORT_SWITCH_INTERVAL_S = args.switch_interval
    work = Path(tempfile.mkdtemp(prefix="loupe-contention-"))
    print(
        f"{args.annotators} annotators (next-task + submit, services, one process); "
        f"import of {args.items:,} items, gate workers {args.gate_workers}, "
        f"GIL switch interval during the import {args.switch_interval * 1000:g} ms"
    )
    if not args.skip_sqlite:
        print("SQLite:")
        run(f"sqlite:///{work / 'loupe.db'}", work / "keys-sqlite", args)
    if args.postgres:
        name = f"loupe_contention_{int(time.time())}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            print("PostgreSQL:")
            url = make_url(args.postgres).set(database=name).render_as_string(False)
            run(url, work / "keys-pg", args)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
