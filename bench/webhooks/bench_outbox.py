"""What the webhook outbox costs the annotator loop, and how fast the sender drains it.

    .venv/bin/python bench/webhooks/bench_outbox.py [--loops 1000] [--rounds 3]

Runs next task + submit through the services (one thread, fresh SQLite file, privacy
gate off) on two projects in the same process, alternating rounds: ``none`` has no
webhook (each submit pays the subscriber lookup: one indexed query, two when the item
completes), ``subscribed`` has one webhook for every event (each submit also writes the
``consensus.changed`` and ``item.completed`` deliveries). Prints per project the SQL
statements per loop (exact: counted with SQLite's trace callback), the CPU time per loop
and loops/s (the best of ``--rounds``; CPU time is the steadier figure on a loaded
machine). Then drains the queued deliveries with
``deliver_due`` against an in-process receiver that answers 204 (no network, no HTTP:
the database work per delivery: claim, sign, record) and prints deliveries/s.
Timings are from a machine shared with other jobs: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people import users
from loupe.services.projects import definition, items, webhooks
from loupe.services.projects.webhook_delivery import deliver_due

KEY = bytes(32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'loupe.db'}")
    db.migrate()
    statements = [0]

    @event.listens_for(db.engine, "connect")
    def trace(dbapi: Any, record: Any) -> None:
        dbapi.set_trace_callback(lambda sql: statements.__setitem__(0, statements[0] + 1))

    db.engine.dispose()  # reconnect with the trace callback
    system = Actor.system()
    task = {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}
    total = args.loops * args.rounds + 200
    ids: dict[str, int] = {}
    with db.transaction() as session:
        user = users.create_user(session, system, username="a", role="annotator")
        for name in ("none", "subscribed"):
            project = definition.create_project(session, system, name=name, config={"task": task})
            definition.add_member(session, system, project.id, user_id=user.id, role="annotator")
            set_privacy(session, system, project.id, gate=False)
            records = [
                parse_item({"id": i, "text": f"call {i}"}, where="bench", text_field="text")
                for i in range(total)
            ]
            items.insert_items(session, system, project.id, records)
            ids[name] = project.id
        webhooks.create_webhook(
            session,
            system,
            ids["subscribed"],
            url="https://receiver.example/hook",
            events=list(webhooks.EVENTS),
            key=KEY,
        )
    actor = Actor(user.id, "a", "annotator")

    def loop(project_id: int, n: int) -> tuple[float, float, float]:
        """(statements, CPU ms, wall ms) per loop."""
        statements[0] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            with db.transaction() as session:
                found = next_task(session, actor, project_id, lease_seconds=60)
                assert found is not None
            with db.transaction() as session:
                submit_label(session, actor, project_id, found.item_id, "a")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return statements[0] / n, cpu / n * 1000, wall / n * 1000

    for project_id in ids.values():
        loop(project_id, 50)  # warm-up
    best = {name: (0.0, float("inf"), float("inf")) for name in ids}
    for _ in range(args.rounds):
        for name, project_id in ids.items():
            sql, cpu, wall = loop(project_id, args.loops)
            best[name] = (sql, min(best[name][1], cpu), min(best[name][2], wall))
    for name, (sql, cpu, wall) in best.items():
        print(
            f"{name:>10}: {sql:.2f} SQL statements, {cpu:.2f} ms CPU, {wall:.2f} ms wall "
            f"({1000 / wall:,.0f} loops/s) per next task + submit (best of {args.rounds})"
        )
    none, hooked = best["none"], best["subscribed"]
    print(
        f"one webhook on every event: +{hooked[0] - none[0]:.2f} statements and "
        f"{hooked[1] / none[1] - 1:+.1%} CPU per loop"
    )

    def receiver(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        return 204

    queued = 0
    started = time.perf_counter()
    while run := deliver_due(db, key=KEY, post=receiver).sent:
        queued += run
    elapsed = time.perf_counter() - started
    print(
        f"drained {queued:,} deliveries in {elapsed:.2f} s: {queued / elapsed:,.0f} "
        "deliveries/s (claim, sign, record; receiver in-process)"
    )
    db.dispose()


if __name__ == "__main__":
    main()
