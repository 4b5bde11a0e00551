"""Two Loupe servers behind one PgBouncer in transaction mode, against one PostgreSQL.

Several clients loop next task + submit, each request going to the servers in turn (a
client-side round robin standing in for a load balancer), until the queue is drained.
No item is handed out beyond its overlap, no annotator labels an item twice, and every
webhook delivery (a background job both servers run, claimed ``FOR UPDATE SKIP
LOCKED``) reaches the receiver exactly once. Runs only where PgBouncer is installed and
``LOUPE_TEST_DATABASE_URL`` names a PostgreSQL database."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.factories import Person, add_items, make_project, make_user
from tests.pgbouncer import installed, pgbouncer
from tests.server_process import free_port, serve
from tests.web.test_webhook_restart import Received, receiver, wait_for

from loupe.db.database import Database
from loupe.db.models import Label
from loupe.db.webhook_models import WebhookDelivery
from loupe.services.access import Actor
from loupe.services.egress import EgressPolicy, parse_networks
from loupe.services.projects import webhooks

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not installed(), reason="PgBouncer is not installed (apt-get install pgbouncer)"
    ),
]

ITEMS, OVERLAP, ANNOTATORS = 60, 2, 6


def drain(servers: list[str], project: int, who: Person) -> int:
    """Loop next task + submit, alternating servers, until told nothing is left."""
    turns: Iterator[str] = itertools.cycle(servers)
    done = 0
    with httpx.Client(headers=who.headers, timeout=60) as client:
        while True:
            reply = client.post(f"{next(turns)}/projects/{project}/tasks/next")
            assert reply.status_code == 200, reply.text
            task = reply.json()["task"]
            if task is None:
                return done
            item = task["item_id"]
            answer = client.post(
                f"{next(turns)}/projects/{project}/items/{item}/labels", json={"answer": "call"}
            )
            assert answer.status_code == 201, answer.text
            done += 1


def test_two_servers_through_pgbouncer_never_over_assign_and_deliver_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PgBouncer fronts PostgreSQL only (set LOUPE_TEST_DATABASE_URL)")
    mgr = make_user(db, "mgr")
    annotators = [make_user(db, f"ann{i}") for i in range(ANNOTATORS)]
    members = {mgr: "manager", **dict.fromkeys(annotators, "annotator")}
    project = make_project(db, overlap=OVERLAP, members=members)
    add_items(db, project, ITEMS)
    key_dir = tmp_path / "keys"
    hook_port = free_port()
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            Actor.system(),
            project,
            url=f"http://127.0.0.1:{hook_port}/hook",
            events=["item.completed"],
            key=webhooks.secret_key(key_dir),
            policy=EgressPolicy(parse_networks("127.0.0.1")),
        )
    env = {
        "LOUPE_KEY_DIR": str(key_dir),
        "LOUPE_DB_PREPARED_STATEMENTS": "false",
        "LOUPE_DB_POOL_SIZE": "4",
        "LOUPE_WEBHOOK_INTERVAL_SECONDS": "0.02",
        "LOUPE_WEBHOOK_TIMEOUT_SECONDS": "30",
        "LOUPE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1",  # the receiver listens on loopback
    }
    received = Received(secret=created.secret)
    with ExitStack() as stack:
        pooled = stack.enter_context(pgbouncer(database_url, tmp_path / "pgbouncer"))
        stack.enter_context(receiver(hook_port, received))
        ports = [free_port(), free_port()]
        processes = [
            stack.enter_context(serve(pooled, port, tmp_path / f"server{port}.log", env=env))
            for port in ports
        ]
        servers = [f"http://127.0.0.1:{port}/api/v1" for port in ports]
        with ThreadPoolExecutor(ANNOTATORS) as pool:
            done = list(pool.map(lambda who: drain(servers, project, who), annotators))
        assert sum(done) == ITEMS * OVERLAP

        def delivered() -> bool:
            with received.arrived:
                return len(received.by_delivery) >= ITEMS

        wait_for(delivered, processes[0], tmp_path / f"server{ports[0]}.log")
        # A round in flight on the other server would show as a second request.
        wait_for(lambda: _all_delivered(db), processes[1], tmp_path / f"server{ports[1]}.log")

    with db.transaction(readonly=True) as session:
        labels = session.execute(select(Label.item_id, Label.user_id)).all()
    per_item = Counter(item for item, _ in labels)
    assert len(per_item) == ITEMS and set(per_item.values()) == {OVERLAP}  # none over
    assert len(set(labels)) == len(labels)  # no annotator labelled an item twice
    assert received.bad_signatures == 0
    assert received.requests == len(received.by_delivery) == ITEMS  # each sent once
    completed = sorted(got["body"]["data"]["item_id"] for got in received.by_delivery.values())
    assert completed == sorted(per_item)


def _all_delivered(db: Database) -> bool:
    with db.transaction(readonly=True) as session:
        statuses = set(session.scalars(select(WebhookDelivery.status)))
    return statuses == {"delivered"}
