"""How long an annotator's submit waits while the background re-fit runs (issue #18).

    .venv/bin/python bench/core/bench_refit_contention.py [--labels 20000] [--rounds 2]
        [--base /tmp/loupe-base7/src]   # git -C . archive HEAD src | tar -x -C /tmp/loupe-base7

Builds one SQLite project (this tree's services, seeded): ``--labels`` labels from four
annotators of mixed accuracy on ``labels / 4`` items (three classes, Dawid-Skene,
overlap 5). Each run copies that database and, in a child process on the baseline tree
or this one (``PYTHONPATH``; the same script), runs a fifth annotator's loop (next task
+ submit, one thread) while the main thread runs ``refit_due_projects`` once — the
server's background re-fit. Runs alternate baseline / new. Per run it prints the
re-fit's wall and CPU time and, for the submits that overlapped the re-fit, how many
there were and their wait (the submit's transaction, wall time: a wait for the lock
uses no CPU), and the longest next task (it takes the writer lock too). NumPy and the aggregators are imported before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
SRC = HERE.parents[2] / "src"
CLASSES = ["call", "music", "navigate"]
ACCURACY = [0.9, 0.85, 0.8, 0.7]  # the four seeded annotators; the fifth answers at 0.85
WARM_SUBMITS = 20


def build(path: Path, n_labels: int) -> None:
    """The seeded project: ``n_labels`` labels by four annotators, one lease each."""
    from datetime import timedelta

    from loupe.db.database import Database
    from loupe.db.models import Assignment, utcnow
    from loupe.formats import parse_item
    from loupe.services.access import Actor
    from loupe.services.compliance.privacy_settings import set_privacy
    from loupe.services.labelling.labels import submit_label
    from loupe.services.people import users
    from loupe.services.projects import definition, items

    rng = random.Random(0)
    n_items = n_labels // len(ACCURACY)
    db = Database(f"sqlite:///{path}")
    db.migrate()
    system = Actor.system()
    config = {
        "task": {"type": "single_choice", "labels": [{"key": key} for key in CLASSES]},
        "quality": {"method": "ds", "refit_every": 100},
    }
    with db.transaction() as session:
        project = definition.create_project(
            session, system, name="refit", config=config, overlap=len(ACCURACY) + 1
        )
        set_privacy(session, system, project.id, gate=False)
        people = []
        for name in [f"a{i}" for i in range(len(ACCURACY))] + ["late"]:
            user = users.create_user(session, system, username=name, role="annotator")
            definition.add_member(session, system, project.id, user_id=user.id, role="annotator")
            people.append(user)
        records = [
            parse_item({"id": i, "text": f"utterance {i}"}, where="bench", text_field="text")
            for i in range(n_items)
        ]
        items.insert_items(session, system, project.id, records)
    from sqlalchemy import select

    from loupe.db.models import Item

    with db.transaction() as session:
        ids = list(session.scalars(select(Item.id).where(Item.project_id == project.id)))
        truth = {item: _truth(index) for index, item in enumerate(ids)}
        now = utcnow()
        for user, accuracy in zip(people, ACCURACY, strict=False):
            actor = Actor(user.id, user.username, "annotator")
            session.add_all(
                Assignment(
                    project_id=project.id,
                    item_id=item,
                    user_id=user.id,
                    expires_at=now + timedelta(days=1),
                    created_at=now,
                )
                for item in ids
            )
            session.flush()
            for item in ids:
                right = rng.random() < accuracy
                wrong = [key for key in CLASSES if key != truth[item]]
                answer = truth[item] if right else rng.choice(wrong)
                submit_label(session, actor, project.id, item, answer)
    db.dispose()


def _truth(index: int) -> str:
    return CLASSES[(index * index + index // 7) % len(CLASSES)]


def child(path: Path) -> None:
    """One run on the tree first on ``sys.path``: prints one JSON line."""
    import numpy  # noqa: F401  imported before the clock starts, in both trees

    import loupe.aggregation  # noqa: F401
    from loupe.db.database import Database
    from loupe.services.access import Actor
    from loupe.services.labelling.labels import submit_label
    from loupe.services.labelling.tasks import next_task
    from loupe.web.refitter import refit_due_projects

    db = Database(f"sqlite:///{path}")
    from sqlalchemy import select

    from loupe.db.models import Item, Project, User

    with db.transaction(readonly=True) as session:
        project = int(session.scalars(select(Project.id)).one())
        late = int(session.scalars(select(User.id).where(User.username == "late")).one())
        ids = list(session.scalars(select(Item.id).where(Item.project_id == project)))
    truth = {item: _truth(index) for index, item in enumerate(sorted(ids))}
    actor = Actor(late, "late", "annotator")
    submits: list[tuple[float, float]] = []
    tasks: list[tuple[float, float]] = []  # next task: it takes the writer lock too
    warm, after, stop = threading.Event(), threading.Event(), threading.Event()
    refit_ended: list[float] = []

    errors: list[BaseException] = []
    rng = random.Random(1)

    def annotate() -> None:
        try:
            loop()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            warm.set()
            after.set()

    def loop() -> None:
        while not stop.is_set():
            asked = time.perf_counter()
            with db.transaction() as session:
                found = next_task(session, actor, project, lease_seconds=600)
            if found is None:
                break
            started = time.perf_counter()
            tasks.append((asked, started))
            with db.transaction() as session:
                answer = truth[found.item_id] if rng.random() < 0.85 else rng.choice(CLASSES)
                submit_label(session, actor, project, found.item_id, answer)
            submits.append((started, time.perf_counter()))
            if len(submits) >= WARM_SUBMITS:
                warm.set()
            if refit_ended and started > refit_ended[0]:
                after.set()

    thread = threading.Thread(target=annotate)
    thread.start()
    warm.wait()
    started, cpu = time.perf_counter(), time.thread_time()
    done = refit_due_projects(db)
    ended, cpu = time.perf_counter(), time.thread_time() - cpu
    refit_ended.append(ended)
    after.wait()  # a submit that began after the re-fit: every overlapping one finished
    stop.set()
    thread.join()
    db.dispose()
    if errors:
        raise errors[0]
    during = [end - begin for begin, end in submits if end > started and begin < ended]
    asking = [end - begin for begin, end in tasks if end > started and begin < ended]
    print(
        json.dumps(
            {
                "refitted": done == [project],
                "refit_wall_s": ended - started,
                "refit_cpu_s": cpu,
                "submits": len(during),
                "max_wait_ms": 1000 * max(during, default=0.0),
                "median_wait_ms": 1000 * statistics.median(during) if during else 0.0,
                "max_next_task_ms": 1000 * max(asking, default=0.0),
            }
        )
    )


def run(tree: Path, template: Path, workdir: Path, index: int) -> dict[str, Any]:
    copy = workdir / f"run{index}.db"
    shutil.copy(template, copy)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", str(copy)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"the {tree} run failed:\n{out.stderr}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base", type=Path, default=Path("/tmp/loupe-base7/src"))
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    if not (args.base / "loupe").is_dir():
        sys.exit(f"no baseline tree at {args.base}: git archive HEAD src | tar -x -C ...")
    workdir = Path(tempfile.mkdtemp(prefix="loupe-refit-"))
    template = workdir / "template.db"
    began = time.perf_counter()
    build(template, args.labels)
    print(f"built {args.labels:,} labels in {time.perf_counter() - began:.1f} s; load {_load()}")
    trees = {"baseline": args.base, "new": SRC}
    order = ["baseline", "new", "new", "baseline"] * args.rounds
    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "new": []}
    for index, name in enumerate(order[: 2 * args.rounds]):
        result = run(trees[name], template, workdir, index)
        assert result["refitted"], result
        results[name].append(result)
        print(
            f"{name:>8}: refit {result['refit_wall_s']:.2f} s wall, "
            f"{result['refit_cpu_s']:.2f} s CPU; {result['submits']} submits during it, "
            f"wait max {result['max_wait_ms']:,.0f} ms, median {result['median_wait_ms']:.1f} ms"
            f" (next task max {result['max_next_task_ms']:,.0f} ms)"
            f"; load {_load()}"
        )
    shutil.rmtree(workdir, ignore_errors=True)
    for name, runs in results.items():
        waits = [r["max_wait_ms"] for r in runs]
        asks = [r["max_next_task_ms"] for r in runs]
        either = [max(r["max_wait_ms"], r["max_next_task_ms"]) for r in runs]
        walls = [r["refit_wall_s"] for r in runs]
        cpus = [r["refit_cpu_s"] for r in runs]
        counts = [r["submits"] for r in runs]
        print(
            f"{name:>8}: longest request (next task or submit) {min(either):,.0f}-"
            f"{max(either):,.0f} ms; longest submit wait {min(waits):,.0f}-{max(waits):,.0f} ms, "
            f"{min(counts)}-{max(counts)} submits during the refit; longest next task "
            f"{min(asks):,.0f}-{max(asks):,.0f} ms; refit {min(walls):.2f}-{max(walls):.2f} s "
            f"wall, {min(cpus):.2f}-{max(cpus):.2f} s CPU"
        )


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
