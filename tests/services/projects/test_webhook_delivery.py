"""Sending the outbox: signed requests, retries with back-off, failure after the last
attempt, and a claim lost with its sender delivered again after its lease."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.factories import make_project

from loupe.db.database import Database
from loupe.db.webhook_models import WebhookDelivery
from loupe.services.access import Actor
from loupe.services.projects import webhooks
from loupe.services.projects.webhook_delivery import (
    LEASE,
    MAX_BACKOFF,
    _claim,
    backoff,
    deliver_all,
    deliver_due,
    lease_for,
    sign,
)
from loupe.settings import Settings

SYSTEM = Actor.system()
KEY = bytes(range(32))
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Receiver:
    """A fake ``post``: answers ``codes`` in turn (an exception is raised) and records."""

    codes: list[int | Exception]
    seen: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        self.seen.append((url, body, dict(headers)))
        code = self.codes.pop(0)
        if isinstance(code, Exception):
            raise code
        return code


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def setup(db: Database) -> tuple[int, int, str, str]:
    """A project with a webhook and one queued ping: (project, webhook, secret, delivery)."""
    project = make_project(db)
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session, SYSTEM, project, url="https://r.example/h", events=["item.completed"], key=KEY
        )
        delivery = webhooks.ping(session, SYSTEM, project, created.webhook.id, now=T0)
        return project, created.webhook.id, created.secret, delivery.delivery_id


def row(db: Database, delivery_id: str) -> WebhookDelivery:
    with db.transaction(readonly=True) as session:
        found = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
        )
        assert found is not None
        session.expunge(found)
        return found


def test_signature_known_answer() -> None:
    # HMAC-SHA256("whsec_test", "1700000000." + body), computed independently.
    assert sign("whsec_test", 1700000000, b'{"id":"1"}') == (
        "sha256=11bf4466ea17c3df3fd743af0b435368e16b7a05eb8eced85e8c4670767bdec5"
    )


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts in range(1, 30):
        delay = backoff(attempts, base=10.0, rng=rng)
        full = min(10.0 * 2 ** (attempts - 1), MAX_BACKOFF)
        assert full * 0.5 <= delay <= full


def test_a_2xx_delivers_a_request_the_receiver_can_verify(db: Database) -> None:
    _, _, secret, delivery_id = setup(db)
    receiver = Receiver([204])
    clock = Clock()
    run = deliver_due(db, key=KEY, post=receiver, clock=clock)
    assert (run.delivered, run.retrying, run.failed) == (1, 0, 0)
    ((url, body, headers),) = receiver.seen
    assert url == "https://r.example/h"
    assert headers["X-Loupe-Event"] == "ping"
    assert headers["X-Loupe-Delivery"] == delivery_id
    assert headers["X-Loupe-Timestamp"] == str(int(T0.timestamp()))
    expected = hmac.new(
        secret.encode(), headers["X-Loupe-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Loupe-Signature"], f"sha256={expected}")
    assert json.loads(body)["type"] == "ping"
    done = row(db, delivery_id)
    assert (done.status, done.attempts, done.last_status_code) == ("delivered", 1, 204)
    assert done.delivered_at == T0
    assert deliver_due(db, key=KEY, post=Receiver([]), clock=clock).sent == 0  # sent once


def test_failures_back_off_then_fail_after_the_last_attempt(db: Database) -> None:
    _, _, _, delivery_id = setup(db)
    clock = Clock()
    receiver = Receiver([500, ConnectionRefusedError("refused"), 503])
    first = deliver_due(db, key=KEY, post=receiver, clock=clock, max_attempts=3, base_delay=10)
    assert first.retrying == 1
    after = row(db, delivery_id)
    assert (after.status, after.attempts, after.last_error) == ("pending", 1, "HTTP 500")
    assert T0 + timedelta(seconds=5) <= after.next_attempt_at <= T0 + timedelta(seconds=10)
    # Not due before its back-off ends: nothing is sent.
    assert deliver_due(db, key=KEY, post=receiver, clock=clock, max_attempts=3).sent == 0
    clock.now = after.next_attempt_at
    deliver_due(db, key=KEY, post=receiver, clock=clock, max_attempts=3, base_delay=10)
    second = row(db, delivery_id)
    assert second.status == "pending" and second.attempts == 2
    assert second.last_error == "ConnectionRefusedError: refused"
    assert second.next_attempt_at >= clock.now + timedelta(seconds=10)  # doubled
    clock.now = second.next_attempt_at
    last = deliver_due(db, key=KEY, post=receiver, clock=clock, max_attempts=3)
    assert (last.failed, row(db, delivery_id).status) == (1, "failed")
    clock.now += timedelta(days=1)
    assert deliver_due(db, key=KEY, post=receiver, clock=clock).sent == 0
    # The same delivery id on every attempt: receivers deduplicate by it.
    assert {headers["X-Loupe-Delivery"] for _, _, headers in receiver.seen} == {delivery_id}


def test_a_claim_whose_sender_died_is_sent_again_after_its_lease(db: Database) -> None:
    _, _, _, delivery_id = setup(db)
    claimed = _claim(db, now=T0, limit=10)  # the sender dies before it records anything
    assert [c.delivery_id for c in claimed] == [delivery_id]
    clock = Clock()
    clock.now = T0 + LEASE - timedelta(seconds=1)
    assert deliver_due(db, key=KEY, post=Receiver([]), clock=clock).sent == 0
    clock.now = T0 + LEASE
    receiver = Receiver([200])
    assert deliver_due(db, key=KEY, post=receiver, clock=clock).delivered == 1
    assert receiver.seen[0][2]["X-Loupe-Delivery"] == delivery_id
    assert row(db, delivery_id).attempts == 2


def test_a_paused_webhook_keeps_its_events_until_resumed(db: Database) -> None:
    project, hook, _, delivery_id = setup(db)
    with db.transaction() as session:
        webhooks.set_active(session, SYSTEM, project, hook, active=False)
    assert deliver_due(db, key=KEY, post=Receiver([]), clock=Clock()).sent == 0
    with db.transaction() as session:
        webhooks.set_active(session, SYSTEM, project, hook, active=True)
    assert deliver_due(db, key=KEY, post=Receiver([200]), clock=Clock()).delivered == 1
    assert row(db, delivery_id).status == "delivered"


def test_a_secret_that_does_not_open_is_retried_not_sent(db: Database) -> None:
    _, _, _, delivery_id = setup(db)
    receiver = Receiver([])
    run = deliver_due(db, key=bytes(32), post=receiver, clock=Clock())
    assert run.retrying == 1 and receiver.seen == []
    assert "webhook-secrets.key" in (row(db, delivery_id).last_error or "")


def test_an_idle_outbox_needs_no_key(database_url: str, db: Database, tmp_path: Path) -> None:
    config = Settings(database_url=database_url, key_dir=tmp_path / "keys")
    assert deliver_all(db, config).sent == 0
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize("code", [301, 404, 410])
def test_non_2xx_answers_are_not_deliveries(db: Database, code: int) -> None:
    _, _, _, delivery_id = setup(db)
    deliver_due(db, key=KEY, post=Receiver([code]), clock=Clock())
    after = row(db, delivery_id)
    assert (after.status, after.last_status_code) == ("pending", code)


def test_the_lease_outlasts_sending_the_whole_batch() -> None:
    assert lease_for(1, 0.5) == LEASE
    assert lease_for(20, 30.0) == timedelta(seconds=20 * 30 + 60)


def test_concurrent_senders_skip_each_others_claims(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    project, hook, _, first = setup(db)
    with db.transaction() as session:
        second = webhooks.ping(session, SYSTEM, project, hook, now=T0).delivery_id
    with db.transaction() as other:  # another sender, mid-claim: holds the first row
        other.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.delivery_id == first).with_for_update()
        )
        claimed = _claim(db, now=T0, limit=10)  # does not wait for it
        assert [c.delivery_id for c in claimed] == [second]


def test_deliveries_reach_the_servers_network_only_where_the_operator_allows(
    database_url: str, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A manager registers a public-looking name whose DNS record points at the server's
    # own loopback (or is rebound there after registration): refused when connecting.
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.attacker.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    config = Settings(database_url=database_url, key_dir=tmp_path / "keys")
    project = make_project(db)
    url = f"http://hooks.attacker.example:{server.server_address[1]}/admin"
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            SYSTEM,
            project,
            url=url,
            events=["item.completed"],
            key=webhooks.secret_key(config.resolved_key_dir()),
        )
        delivery = webhooks.ping(session, SYSTEM, project, created.webhook.id).delivery_id
    try:
        assert deliver_all(db, config).retrying == 1
        assert seen == []
        refused = row(db, delivery)
        assert refused.last_status_code is None
        assert "EgressRefused" in (refused.last_error or "")
        with db.transaction() as session:  # due again now
            session.execute(
                update(WebhookDelivery).values(next_attempt_at=datetime.now(UTC) - LEASE)
            )
        allowed = config.model_copy(update={"webhook_allowed_networks": "127.0.0.0/8"})
        assert deliver_all(db, allowed).delivered == 1
        assert seen == ["/admin"]
    finally:
        server.shutdown()
        server.server_close()
