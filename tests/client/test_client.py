"""The blocking client against a live server: every resource's success path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.client.live import SCHEMA, LiveServer

from loupe.client import Client, Conflict, InvalidInput, NotFound, Prediction, Unauthenticated
from loupe.client.models import Item, Project
from loupe.ledger.verify import VerificationError


def _project(client: Client, name: str) -> Project:
    return client.projects.create(name, SCHEMA, guidelines="Pick the intent.")


def test_projects_and_members(live_server: LiveServer) -> None:
    with live_server.client(live_server.manager) as client:
        project = _project(client, "projects-and-members")
        assert (project.name, project.overlap, project.config_version) == (
            "projects-and-members",
            1,
            1,
        )
        assert client.projects.get(project.id) == project
        changed = client.projects.update(project.id, guidelines="Pick one.", overlap=2)
        assert (changed.guidelines, changed.overlap) == ("Pick one.", 2)
        assert project.id in [p.id for p in client.projects.iter(page_size=1)]

        member = client.members.add(project.id, live_server.annotator.id, "annotator")
        assert (member.user_id, member.role) == (live_server.annotator.id, "annotator")
        roles = {m.user_id: m.role for m in client.members.list(project.id)}
        assert roles == {live_server.manager.id: "manager", live_server.annotator.id: "annotator"}
        assert client.me().username == "maya"

        copy = client.projects.duplicate(project.id, "a copy", members=True)
        assert (copy.name, copy.guidelines) == ("a copy", "Pick one.")
        assert {m.user_id for m in client.members.list(copy.id)} == set(roles)
        assert client.projects.archive(copy.id).archived_at is not None
        assert client.projects.unarchive(copy.id).archived_at is None
        with pytest.raises(InvalidInput):
            client.projects.delete(copy.id, confirm="not its name")
        deleted = client.projects.delete(copy.id, confirm="a copy")
        assert (deleted.project_id, deleted.items_deleted) == (copy.id, 0)
        with pytest.raises(NotFound):
            client.projects.get(copy.id)


def test_items_add_import_and_paginate(live_server: LiveServer, tmp_path: Path) -> None:
    with live_server.client(live_server.manager) as client:
        project = _project(client, "items")
        rows = [{"id": f"u{i}", "text": f"utterance {i}"} for i in range(5)]
        added = client.items.add(project.id, rows, batch_size=2)
        assert (added.received, added.created, added.existing) == (5, 5, 0)
        again = client.items.add(project.id, rows[:3])
        assert (again.created, again.existing) == (0, 3)

        jsonl = "".join(json.dumps({"id": f"j{i}", "text": f"line {i}"}) + "\n" for i in range(2))
        assert client.items.import_bytes(project.id, jsonl).created == 2
        array = tmp_path / "rows.json"
        array.write_text(json.dumps([{"id": "a1", "text": "array row"}]))
        assert client.items.import_file(project.id, array).created == 1
        table = tmp_path / "rows.csv"
        with table.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows([["id", "text"], ["c1", "csv row"], ["c2", "another"]])
        assert client.items.import_file(project.id, table).created == 2

        first = client.items.list(project.id, limit=4)
        assert len(first.items) == 4 and first.next_after == first.items[-1].id
        everything = list(client.items.iter(project.id, page_size=3))
        ids = [item.id for item in everything]
        assert len(ids) == 10 and ids == sorted(set(ids))
        assert {item.external_id for item in everything} >= {"u0", "j1", "a1", "c2"}
        one = client.items.get(project.id, ids[0])
        assert isinstance(one, Item) and one.data["text"] == "utterance 0"
        comment = client.items.comment(project.id, one.id, "is this a call?")
        assert (comment.body, comment.mine, comment.author) == ("is this a call?", True, "maya")
        assert client.items.comments(project.id, one.id) == [comment]


def test_annotator_loop_exports_and_quality(live_server: LiveServer, tmp_path: Path) -> None:
    with (
        live_server.client(live_server.manager) as manager,
        live_server.client(live_server.annotator) as annotator,
    ):
        _annotator_loop(live_server, manager, annotator, tmp_path)


def _annotator_loop(
    live_server: LiveServer, manager: Client, annotator: Client, tmp_path: Path
) -> None:
    project = _project(manager, "loop").id
    manager.members.add(project, live_server.annotator.id, "annotator")
    manager.items.add(project, [{"id": f"u{i}", "text": f"call {i}"} for i in range(3)])
    assert manager.quality.set_gold(project, {"u2": "call"}).marked == 1

    task = annotator.tasks.next(project)
    again = annotator.tasks.next(project)
    assert task is not None and again is not None and again.item_id == task.item_id
    label = annotator.labels.submit(project, task.item_id, "call", lead_time_ms=900)
    assert (label.item_id, label.answer, label.lead_time_ms) == (task.item_id, "call", 900)
    assert annotator.labels.submit(project, task.item_id, "call").id == label.id
    with pytest.raises(Conflict):
        annotator.labels.submit(project, task.item_id, "music")
    undone = annotator.labels.undo(project, task.item_id)
    assert (undone.label_id, undone.label_count) == (label.id, 0)
    back = annotator.tasks.next(project)
    assert back is not None and back.item_id == task.item_id
    annotator.labels.submit(project, back.item_id, "music")

    served = annotator.tasks.next(project)
    assert served is not None
    annotator.tasks.skip(project, served.item_id)
    submitted = 1
    while (task := annotator.tasks.next(project)) is not None:
        annotator.labels.submit(project, task.item_id, "call")
        submitted += 1
    labels = list(manager.labels.iter(project, page_size=1))
    assert len(labels) == submitted and {lb.user_id for lb in labels} == {live_server.annotator.id}
    assert served.item_id not in {lb.item_id for lb in labels}

    consensus = {row["id"]: row["answer"] for row in manager.exports.consensus(project)}
    assert consensus[back.external_id] == "music"
    assert len(list(manager.exports.rows(project, kind="labels"))) == submitted
    target = tmp_path / "items.csv"
    written = manager.exports.download(project, target, kind="items", format="csv")
    assert written == target.stat().st_size > 0
    assert target.read_text().splitlines()[0].startswith("id")

    report = manager.quality.report(project)
    assert report.n_labels == submitted
    progress = manager.quality.progress(project)
    assert (progress.items, progress.labels, progress.gold) == (3, submitted, 1)
    assert manager.quality.refit(project).project_id == project


def test_payments_wallet_and_ledger(live_server: LiveServer, tmp_path: Path) -> None:
    with (
        live_server.client(live_server.manager) as manager,
        live_server.client(live_server.annotator) as annotator,
        live_server.client() as admin,
        live_server.client(live_server.auditor) as auditor,
    ):
        _payments(live_server, manager, annotator, admin, auditor, tmp_path)


def _payments(
    live_server: LiveServer,
    manager: Client,
    annotator: Client,
    admin: Client,
    auditor: Client,
    tmp_path: Path,
) -> None:
    project = _project(manager, "payments").id
    manager.members.add(project, live_server.annotator.id, "annotator")
    manager.items.add(project, [{"id": f"p{i}", "text": f"pay {i}"} for i in range(3)])
    card = manager.payments.create_rate_card(
        project,
        {"currency": "EUR", "rates": [{"amount_minor": 5}], "bonuses_minor": {"expert": 20}},
    )
    assert (card.version, card.currency) == (1, "EUR")
    assert [c.id for c in annotator.payments.rate_cards(project)] == [card.id]
    while (task := annotator.tasks.next(project)) is not None:
        annotator.labels.submit(project, task.item_id, "call")
    bonus = manager.payments.grant_bonus(project, user_id=live_server.annotator.id, bonus="expert")

    entries = list(annotator.wallet.iter(page_size=2))
    assert len(entries) == 4 and entries[-1].index == bonus.index
    balance = {b.currency: b.balance_minor for b in annotator.wallet.balances()}
    assert balance == {"EUR": 3 * 5 + 20}
    admin.ledger.publish()
    wallet = annotator.wallet.get()
    assert wallet.checkpoint is not None
    for entry in wallet.entries:
        verified = entry.verify(
            wallet.checkpoint, verifiers=live_server.verifier_keys, origin="test.loupe/client"
        )
        assert verified.size == wallet.checkpoint.size
    with pytest.raises(VerificationError):
        wallet.entries[0].verify(wallet.checkpoint, verifiers=[], origin=None)

    checkpoint = auditor.ledger.checkpoint()
    proof = auditor.ledger.inclusion(entries[0].index)
    assert (proof.leaf, proof.root_hash) == (entries[0].leaf, checkpoint.root_hash)
    consistency = auditor.ledger.consistency(1)
    assert (consistency.first, consistency.second) == (1, checkpoint.size)
    correction = admin.ledger.correct(entries[0].index, amount_minor=-1, reason="overpaid")
    assert correction.index > bonus.index

    payout = admin.payments.create_payout("EUR")
    assert (payout.currency, payout.total_minor) == ("EUR", 3 * 5 + 20 - 1)
    assert [p.id for p in admin.payments.payouts()] == [payout.id]
    target = tmp_path / "payout.csv"
    assert admin.payments.download_payout(payout.id, target) == target.stat().st_size > 0


def test_model_loop(live_server: LiveServer) -> None:
    with live_server.client(live_server.manager) as client:
        project = _project(client, "model-loop").id
        probabilities = {"call": 0.5, "music": 0.3, "navigate": 0.2}
        predictions = [Prediction(f"m{i}", f"call {i}", "call", probabilities) for i in range(5)]
        sent = client.predictions.send(project, predictions, batch_size=2)
        assert (sent.received, sent.created, sent.to_people + sent.model_resolved) == (5, 5, 5)
        assert client.predictions.send(project, predictions).existing == 5
        assert client.predictions.agreement(project).n_predictions == 5
        assert client.models.list(project) == []
        assert client.models.promoted(project) is None
        with pytest.raises(Conflict, match="no promoted model yet"):
            client.predictions.predict(project, ["call mum"])


def test_webhooks(live_server: LiveServer) -> None:
    with live_server.client(live_server.manager) as client:
        project = _project(client, "webhooks").id
        hook = client.webhooks.create(
            project, "https://hooks.example.org/loupe", ["item.completed"]
        )
        assert (hook.url, hook.events, hook.active) == (
            "https://hooks.example.org/loupe",
            ["item.completed"],
            True,
        )
        assert len(hook.secret) > 16
        assert [h.id for h in client.webhooks.list(project)] == [hook.id]
        assert client.webhooks.set_active(project, hook.id, active=False).active is False
        pings = [client.webhooks.ping(project, hook.id) for _ in range(3)]
        assert {p.event for p in pings} == {"ping"}
        log = list(client.webhooks.iter_deliveries(project, page_size=2))
        assert [d.delivery_id for d in log] == [p.delivery_id for p in reversed(pings)]
        again = client.webhooks.redeliver(project, pings[0].delivery_id)
        assert again.delivery_id != pings[0].delivery_id and again.event == "ping"
        client.webhooks.delete(project, hook.id)
        assert client.webhooks.list(project) == []
        with pytest.raises(NotFound):
            client.webhooks.ping(project, hook.id)


def test_users_and_tokens(live_server: LiveServer) -> None:
    with live_server.client() as admin:
        user = admin.users.create("sam", "annotator", display_name="Sam")
        assert (user.username, user.role, user.display_name, user.is_active) == (
            "sam",
            "annotator",
            "Sam",
            True,
        )
        assert "sam" in [u.username for u in admin.users.iter(page_size=2)]
        issued = admin.users.issue_token(user.id, name="ci")
        assert [t.id for t in admin.users.tokens(user.id)] == [issued.id]
        with Client(live_server.url, issued.token) as sam:
            assert sam.users.me() == sam.me() == user
            assert admin.users.deactivate(user.id).is_active is False
            with pytest.raises(Unauthenticated):
                sam.me()
            assert admin.users.reactivate(user.id).is_active is True
            assert sam.me().id == user.id
            admin.users.revoke_token(issued.id)
            with pytest.raises(Unauthenticated):
                sam.me()
        assert admin.users.tokens(user.id)[0].revoked_at is not None
