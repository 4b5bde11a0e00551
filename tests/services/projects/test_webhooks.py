"""Webhook events: queued in the transaction of the change that causes them, by the
service that owns it, with ids and answer keys only — never an item's text, external id
or subject."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import add_rows, hold, make_project, make_user
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.db.webhook_models import WebhookDelivery
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest, utc_seconds
from loupe.services.access import Actor
from loupe.services.compliance.subjects import erase_subject
from loupe.services.labelling.escalations import flag_item, resolve_escalation
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop.model_versions import retrain
from loupe.services.payments import earnings
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.payments.ledger_store import NewEntry, append_entries, publish_checkpoint
from loupe.services.projects import webhooks

SYSTEM = Actor.system()
KEY = bytes(range(32))
SECRET_TEXT = "Call Maria Gonzalez at +49 30 1234567"
SECRET_ID = "customer-4711@example.org"


def subscribe(db: Database, project: int, events: list[str] | None = None) -> int:
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            SYSTEM,
            project,
            url="https://receiver.example/hook",
            events=events or list(webhooks.EVENTS),
            key=KEY,
        )
        assert created.secret.startswith("whsec_")
        return created.webhook.id


def events(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.transaction(readonly=True) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        return [(row.event, json.loads(row.body)) for row in rows]


def test_a_completed_item_queues_its_events_with_ids_and_answer_keys_only(db: Database) -> None:
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, overlap=2, members={ann: "annotator", bob: "annotator"})
    add_rows(db, project, [{"id": SECRET_ID, "text": SECRET_TEXT}])
    subscribe(db, project)
    for person, answer in ((ann, "call"), (bob, "call")):
        hold(db, person, project, 1)
        with db.transaction() as session:
            submit_label(session, person.actor, project, 1, answer)
    queued = events(db)
    # The first label sets the consensus; the second completes the item (same answer).
    assert [event for event, _ in queued] == ["consensus.changed", "item.completed"]
    changed, completed = (body for _, body in queued)
    assert changed["data"] == {"item_id": 1, "answer": "call", "confidence": 1.0, "method": "mv"}
    assert completed["data"] == {"item_id": 1, "n_labels": 2}
    assert completed["type"] == "item.completed" and completed["project_id"] == project
    assert len(completed["id"]) == 32 and datetime.fromisoformat(completed["created_at"])
    for _, body in queued:
        text = json.dumps(body)
        assert SECRET_TEXT not in text and SECRET_ID not in text and "Maria" not in text


def test_free_text_answers_never_reach_a_payload(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"}, config={"task": {"type": "free_text"}})
    add_rows(db, project, [{"id": SECRET_ID, "text": "say something"}])
    subscribe(db, project)
    hold(db, ann, project, 1)
    with db.transaction() as session:
        submit_label(session, ann.actor, project, 1, "my neighbour Maria Gonzalez")
    queued = events(db)
    assert {event for event, _ in queued} == {"consensus.changed", "item.completed"}
    for _, body in queued:
        assert "answer" not in body["data"]
        assert "Maria" not in json.dumps(body) and SECRET_ID not in json.dumps(body)


def test_events_roll_back_with_the_change_and_only_subscribers_get_them(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    other = make_project(db, name="other")
    add_rows(db, project, [{"id": "a", "text": "play jazz"}])
    subscribe(db, project, ["escalation.opened"])
    subscribe(db, other)
    hold(db, ann, project, 1)

    def fail_after_the_label() -> None:
        with db.transaction() as session:
            submit_label(session, ann.actor, project, 1, "music")
            raise RuntimeError("the request failed after the label")

    with pytest.raises(RuntimeError):
        fail_after_the_label()
    assert events(db) == []  # the outbox commits with the change or not at all
    with db.transaction() as session:
        submit_label(session, ann.actor, project, 1, "music")
    assert events(db) == []  # item.completed: this webhook did not ask for it


def test_escalations_opened_and_settled(db: Database) -> None:
    ann, mgr = make_user(db, "ann"), make_user(db, "mgr", "manager")
    project = make_project(db, overlap=2, members={ann: "annotator", mgr: "manager"})
    add_rows(db, project, [{"id": SECRET_ID, "text": SECRET_TEXT}])
    subscribe(db, project, ["escalation.opened", "escalation.settled"])
    hold(db, ann, project, 1)
    with db.transaction() as session:
        flag_item(session, ann.actor, project, 1, reason=f"mentions {SECRET_TEXT}")
    with db.transaction() as session:
        resolve_escalation(session, mgr.actor, project, 1, answer="navigate")
    (opened_event, opened), (settled_event, settled) = events(db)
    assert (opened_event, opened["data"]) == (
        "escalation.opened",
        {"item_id": 1, "stage": "expert", "trigger": "flagged"},
    )
    assert (settled_event, settled["data"]) == (
        "escalation.settled",
        {"item_id": 1, "decided_by": "adjudicator", "answer": "navigate"},
    )
    assert "Maria" not in json.dumps([opened, settled])


def test_a_promoted_model_is_an_event_and_a_kept_champion_is_not(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    subscribe(db, project, ["model.promoted"])
    with db.transaction() as session:
        first = retrain(session, manager.actor, project).record
        retrain(session, manager.actor, project)  # same data: not promoted
    ((event, body),) = events(db)
    assert event == "model.promoted"
    assert body["data"]["model_version_id"] == first.id and body["data"]["version"] == 1
    assert body["data"]["metrics"]["accuracy"] == pytest.approx(first.metrics["accuracy"])


def test_a_payout_tells_each_project_how_many_of_its_contributors_it_paid(
    db: Database, tmp_path: Path
) -> None:
    cfg = LedgerConfig(keys=init_keys(tmp_path / "lk", origin="test.loupe/hooks"))
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, members={ann: "annotator", bob: "annotator"})
    quiet = make_project(db, name="quiet")
    subscribe(db, project, ["payout.made"])
    subscribe(db, quiet, ["payout.made"])
    now = datetime(2026, 3, 2, tzinfo=UTC)
    entries = [
        NewEntry(
            entry=PaymentEntry(
                kind="earning",
                contributor=contributor_pseudonym(str(user), secret=cfg.keys.secret),
                item=item_digest(str(user), secret=cfg.keys.secret),
                amount_minor=5,
                currency="EUR",
                rule="label.accepted",
                rate_card_version=f"p{project}.v1",
                timestamp=utc_seconds(now),
            ),
            user_id=user,
            project_id=project,
        )
        for user in (ann.id, bob.id)
    ]
    with db.transaction() as session:
        append_entries(session, entries, keys=None, checkpoint_every=10**9)
        publish_checkpoint(session, cfg.keys)
    with db.transaction() as session:
        payout = earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
    ((event, body),) = events(db)  # the quiet project paid no one
    assert event == "payout.made" and body["project_id"] == project
    assert body["data"] == {"payout_id": payout.id, "currency": "EUR", "contributors_paid": 2}


def test_an_erasure_names_items_never_the_subject(db: Database) -> None:
    project = make_project(db)
    add_rows(db, project, [{"id": SECRET_ID, "text": SECRET_TEXT}])
    subscribe(db, project, ["subject.erased"])
    with db.transaction() as session:
        item = session.scalar(select(Item))
        assert item is not None
        item.subject_id = "maria@example.org"
    with db.transaction() as session:
        erasure = erase_subject(session, SYSTEM, "maria@example.org", ref_key=bytes(32))
    ((event, body),) = events(db)
    assert event == "subject.erased"
    assert body["data"] == {"item_ids": [1], "receipt_sha256": erasure.sha256}
    text = json.dumps(body)
    assert "maria" not in text and erasure.receipt["subject_ref"] not in text


def test_management_checks_role_url_and_events(db: Database) -> None:
    mgr, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, members={mgr: "manager", ann: "annotator"})
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            mgr.actor,
            project,
            url=" https://r.example/h ",
            events=["item.completed"],
            key=KEY,
        )
        assert created.webhook.url == "https://r.example/h"
        # Sealed, never stored in the clear, and opens only under the key and project.
        assert created.secret.encode() not in created.webhook.secret_sealed
        sealed = created.webhook.secret_sealed
    assert webhooks.open_secret(KEY, project, sealed) == created.secret
    with pytest.raises(Conflict, match=r"webhook-secrets\.key"):
        webhooks.open_secret(bytes(32), project, sealed)
    with pytest.raises(Conflict):
        webhooks.open_secret(KEY, project + 1, sealed)
    bad: list[tuple[Actor, str, list[str], type[Exception]]] = [
        (ann.actor, "https://r.example/h", ["item.completed"], PermissionDenied),
        (mgr.actor, "file:///etc/passwd", ["item.completed"], InvalidInput),
        (mgr.actor, "javascript:alert(1)", ["item.completed"], InvalidInput),
        (mgr.actor, "https://", ["item.completed"], InvalidInput),
        (mgr.actor, "https://r.example/h", [], InvalidInput),
        (mgr.actor, "https://r.example/h", ["item.deleted"], InvalidInput),
    ]
    for actor, url, chosen, error in bad:
        with db.transaction() as session, pytest.raises(error):
            webhooks.create_webhook(session, actor, project, url=url, events=chosen, key=KEY)
    with db.transaction(readonly=True) as session:
        assert len(webhooks.list_webhooks(session, mgr.actor, project)) == 1
    with db.transaction() as session, pytest.raises(NotFound):
        webhooks.delete_webhook(session, mgr.actor, project, created.webhook.id + 1)


def test_ping_redeliver_and_the_paginated_log(db: Database) -> None:
    project = make_project(db)
    hook = subscribe(db, project)
    with db.transaction() as session:
        pings = [webhooks.ping(session, SYSTEM, project, hook).delivery_id for _ in range(3)]
    with db.transaction(readonly=True) as session:
        first = webhooks.list_deliveries(session, SYSTEM, project, limit=2)
        assert first.next_before is not None
        rest = webhooks.list_deliveries(session, SYSTEM, project, limit=2, before=first.next_before)
        listed = [d.delivery_id for d in [*first.deliveries, *rest.deliveries]]
    assert listed == pings[::-1]
    assert rest.next_before is None
    with db.transaction() as session:
        again = webhooks.redeliver(session, SYSTEM, project, pings[0])
        assert again.delivery_id != pings[0] and again.status == "pending"
        original = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.delivery_id == pings[0])
        )
        assert original is not None and (again.event_id, again.body) == (
            original.event_id,
            original.body,
        )
    with db.transaction() as session, pytest.raises(NotFound):
        webhooks.redeliver(session, SYSTEM, project, "0" * 32)


def test_a_submit_reads_the_subscriptions_and_the_item_once(db: Database) -> None:
    """Both events of one submit come from one read of the project's webhooks, and the
    routing check reuses the item row the submit locked (SQLite's statement trace)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's statement trace")
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_rows(db, project, [{"id": "u1", "text": "call mum"}])
    subscribe(db, project, ["consensus.changed", "item.completed"])
    hold(db, ann, project, 1)
    seen: list[str] = []
    with db.transaction() as session:
        raw = session.connection().connection.driver_connection
        raw.set_trace_callback(seen.append)
        try:
            submit_label(session, ann.actor, project, 1, "call")
        finally:
            raw.set_trace_callback(None)
    assert [event for event, _ in events(db)] == ["consensus.changed", "item.completed"]
    assert sum("FROM webhooks" in sql for sql in seen) == 1
    assert sum(sql.split(" WHERE ")[0].endswith("FROM items") for sql in seen) == 1
