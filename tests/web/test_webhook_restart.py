"""At-least-once webhook delivery through a server restart, end to end.

A real receiver (an HTTP server in this test that verifies each signature) is down when
a label completes an item; the Loupe server tries, fails, and is restarted; the receiver
comes up; the restarted server delivers the stored events exactly as signed. No fixed
sleeps: every wait is for a condition (a process that dies fails the test at once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.factories import add_items, make_project, make_user
from tests.server_process import free_port, serve

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.egress import EgressPolicy, parse_networks
from loupe.services.projects import webhooks


@dataclass
class Received:
    secret: str
    by_delivery: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    requests: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """What docs/webhooks.md tells receivers to do (its own snippet is run in test_docs)."""
    timestamp = headers["X-Loupe-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Loupe-Signature"], "sha256=" + expected.hexdigest())


@contextmanager
def receiver(port: int, received: Received) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with received.arrived:
                received.requests += 1
                if verify(received.secret, self.headers, body):
                    # Deduplicate by delivery id: at-least-once may send one twice.
                    received.by_delivery[self.headers["X-Loupe-Delivery"]] = {
                        "event": self.headers["X-Loupe-Event"],
                        "body": json.loads(body),
                    }
                else:
                    received.bad_signatures += 1
                received.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``condition()``; fails at once if the server exits meanwhile."""
    done = threading.Event()
    while not condition():
        assert process.poll() is None, log.read_text(errors="replace")
        done.wait(0.05)  # a polling interval, not a deadline


@pytest.mark.slow
def test_events_queued_while_the_receiver_is_down_arrive_after_a_restart(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    mgr, ann = make_user(db, "mgr"), make_user(db, "ann")
    project = make_project(db, members={mgr: "manager", ann: "annotator"})
    add_items(db, project, 1)
    key_dir = tmp_path / "keys"
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            Actor.system(),
            project,
            url=f"http://127.0.0.1:{(hook_port := free_port())}/hook",
            events=["item.completed", "consensus.changed"],
            key=webhooks.secret_key(key_dir),
            policy=EgressPolicy(parse_networks("127.0.0.1")),
        )
    env = {
        "LOUPE_KEY_DIR": str(key_dir),
        "LOUPE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1",  # the receiver listens on loopback
        "LOUPE_WEBHOOK_INTERVAL_SECONDS": "0.05",
        "LOUPE_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
        "LOUPE_WEBHOOK_TIMEOUT_SECONDS": "5",
    }
    port, log = free_port(), tmp_path / "server.log"
    api = f"http://127.0.0.1:{port}/api/v1"
    deliveries = f"{api}/projects/{project}/webhooks/deliveries"

    def log_of() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(deliveries, headers=mgr.headers).json()["items"]
        return items

    with serve(database_url, port, log, env=env) as first:
        task = httpx.post(f"{api}/projects/{project}/tasks/next", headers=ann.headers).json()
        item_id = task["task"]["item_id"]
        labelled = httpx.post(
            f"{api}/projects/{project}/items/{item_id}/labels",
            json={"answer": "call"},
            headers=ann.headers,
        )
        assert labelled.status_code == 201, labelled.text
        # The receiver is down: wait until the server has tried both events and failed.
        wait_for(
            lambda: (
                [d["event"] for d in log_of() if d["attempts"] >= 1 and d["last_error"]]
                == ["item.completed", "consensus.changed"]
            ),
            first,
            log,
        )
        # A graceful stop lets the round in flight record its outcome first (a crash
        # mid-send leaves a claim that comes due again after its lease: unit-tested).
        first.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert first.wait() in (0, -signal.SIGTERM), log.read_text(errors="replace")
    queued = {d["delivery_id"]: d for d in log_of_db(db)}
    # Nothing was left claimed: the stopping server recorded the round in flight.
    assert {d["status"] for d in queued.values()} == {"pending"}

    received = Received(secret=created.secret)
    with receiver(hook_port, received), serve(database_url, port, log, env=env) as second:
        with received.arrived:
            while set(received.by_delivery) != set(queued):
                assert second.poll() is None, log.read_text(errors="replace")
                received.arrived.wait(0.05)
        wait_for(lambda: {d["status"] for d in log_of()} == {"delivered"}, second, log)
    assert received.bad_signatures == 0
    for delivery_id, got in received.by_delivery.items():
        assert got["event"] == queued[delivery_id]["event"]
        assert got["body"] == queued[delivery_id]["payload"]  # exactly the stored event
    by_event = {got["event"]: got["body"] for got in received.by_delivery.values()}
    assert by_event["item.completed"]["data"] == {"item_id": item_id, "n_labels": 1}
    assert by_event["consensus.changed"]["data"]["answer"] == "call"


def log_of_db(db: Database) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from loupe.db.webhook_models import WebhookDelivery

    with db.transaction(readonly=True) as session:
        return [
            {
                "delivery_id": row.delivery_id,
                "event": row.event,
                "status": row.status,
                "payload": json.loads(row.body),
            }
            for row in session.scalars(select(WebhookDelivery))
        ]
