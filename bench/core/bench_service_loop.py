"""The annotator loop without HTTP: next task + submit through the services.

    .venv/bin/python bench/core/bench_service_loop.py [--loops 2000]

Prints loops/s for one thread on a fresh SQLite database (privacy gate off,
no rate card), the ceiling the HTTP server works against; compare with
bench/core/run_workload.py's figures (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services import items, projects, users
from loupe.services.access import Actor
from loupe.services.labels import submit_label
from loupe.services.privacy import set_privacy
from loupe.services.tasks import next_task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=2000)
    args = parser.parse_args()
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'loupe.db'}")
    db.migrate()
    system = Actor.system()
    config = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}
    with db.transaction() as session:
        user = users.create_user(session, system, username="a", role="annotator")
        project = projects.create_project(session, system, name="p", config=config)
        projects.add_member(session, system, project.id, user_id=user.id, role="annotator")
        set_privacy(session, system, project.id, gate=False)
        records = [
            parse_item({"id": i, "text": f"call {i}"}, where="bench", text_field="text")
            for i in range(args.loops + 100)
        ]
        items.insert_items(session, system, project.id, records)
    actor = Actor(user.id, "a", "annotator")

    def loop(n: int) -> None:
        for _ in range(n):
            with db.transaction() as session:
                task = next_task(session, actor, project.id, lease_seconds=60)
                assert task is not None
            with db.transaction() as session:
                submit_label(session, actor, project.id, task.item_id, "a")

    loop(50)  # warm-up
    started = time.perf_counter()
    loop(args.loops)
    elapsed = time.perf_counter() - started
    print(
        f"{args.loops} loops in {elapsed:.2f} s: {args.loops / elapsed:,.0f} loops/s, "
        f"{elapsed / args.loops * 1000:.2f} ms per next-task + submit (services, one thread)"
    )


if __name__ == "__main__":
    main()
