from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import (
    SCHEMA,
    add_items,
    count,
    hold,
    make_project,
    make_rate_card,
    make_user,
    pause_after,
    run_until_blocked,
)

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.services.access import Actor
from loupe.services.labelling import reviews
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.reviews import next_review, submit_review
from loupe.services.labelling.tasks import next_task
from loupe.services.labelling.undo import undo_label
from loupe.services.people.standing import explain
from loupe.services.quality.gold import set_gold

REVIEWED: dict[str, Any] = {**SCHEMA, "review": {"rate": 1.0}}


def label(db: Database, person: Any, project: int, answer: str = "call") -> int:
    with db.transaction() as session:
        task = next_task(session, person.actor, project, lease_seconds=60)
        assert task is not None
        return submit_label(session, person.actor, project, task.item_id, answer).label.id


def test_a_review_task_is_blind_and_accepting_keeps_the_label(db: Database) -> None:
    ann, rev = make_user(db, "ann"), make_user(db, "rev")
    project = make_project(db, config=REVIEWED, members={ann: "annotator", rev: "reviewer"})
    add_items(db, project, 1)
    label_id = label(db, ann, project)
    with db.transaction() as session:
        task = next_review(session, rev.actor, project, lease_seconds=60)
    assert task is not None
    assert task.label_id == label_id
    assert task.answer == "call"
    assert task.other_answers is None
    # Blind: nothing in a review task names or points to who gave the label.
    assert not [name for name in task.__slots__ if "user" in name or "labeller" in name]
    assert "ann" not in {str(value) for value in vars_of(task)}
    with db.transaction() as session:
        outcome = submit_review(session, rev.actor, project, label_id, verdict="accept")
    assert outcome.status == "accepted"
    assert count(db, "labels") == 1
    with db.transaction() as session:
        again = submit_review(session, rev.actor, project, label_id, verdict="accept")
        assert next_review(session, rev.actor, project, lease_seconds=60) is None
    assert again.created is False


def vars_of(task: Any) -> list[Any]:
    return [getattr(task, name) for name in task.__slots__ if name not in ("item_id", "label_id")]


def test_rejected_work_goes_back_to_the_queue_but_not_to_its_author(db: Database) -> None:
    a, b, rev = make_user(db, "a"), make_user(db, "b"), make_user(db, "rev")
    project = make_project(
        db, config=REVIEWED, members={a: "annotator", b: "annotator", rev: "reviewer"}
    )
    add_items(db, project, 1)
    label_id = label(db, a, project, "music")
    with db.transaction() as session:
        outcome = submit_review(
            session, rev.actor, project, label_id, verdict="reject", reason="it asks to call"
        )
    assert outcome.status == "rejected"
    assert count(db, "labels") == 0
    with db.transaction() as session:
        assert next_task(session, a.actor, project, lease_seconds=60) is None
        again = next_task(session, b.actor, project, lease_seconds=60)
    assert again is not None
    rep = reputation_of(db, a.id)
    assert rep["general"].reputation.contributions[0].evidence.kind == "review_received"
    assert rep["general"].reputation.contributions[0].evidence.success == 0.0


def reputation_of(db: Database, user_id: int) -> dict[str, Any]:
    with db.transaction(readonly=True) as session:
        return {row.domain: row for row in explain(session, Actor.system(), user_id)}


def test_a_correction_replaces_the_label_with_the_reviewers_answer(db: Database) -> None:
    a, rev = make_user(db, "a"), make_user(db, "rev")
    project = make_project(db, config=REVIEWED, members={a: "annotator", rev: "reviewer"})
    add_items(db, project, 1)
    label_id = label(db, a, project, "music")
    with db.transaction() as session:
        outcome = submit_review(
            session, rev.actor, project, label_id, verdict="correct", corrected_answer="call"
        )
    assert outcome.status == "rejected"
    assert outcome.correction_label_id is not None
    with db.engine.connect() as connection:
        from sqlalchemy import text

        rows = connection.execute(text("SELECT user_id, CAST(answer AS TEXT) FROM labels")).all()
        consensus = connection.execute(
            text("SELECT CAST(answer AS TEXT) FROM consensus")
        ).scalar_one()
    assert [(row[0], row[1]) for row in rows] == [(rev.id, '"call"')]
    assert consensus == '"call"'


def test_rejecting_an_earning_label_reverses_its_pay(db: Database, tmp_path: Any) -> None:
    from loupe.services.payments.ledger_keys import LedgerConfig, init_keys

    a, rev = make_user(db, "a"), make_user(db, "rev")
    project = make_project(db, config=REVIEWED, members={a: "annotator", rev: "reviewer"})
    make_rate_card(db, project)
    add_items(db, project, 1)
    ledger = LedgerConfig(
        keys=init_keys(tmp_path / "keys", origin="test/log"), checkpoint_every=1000
    )
    with db.transaction() as session:
        task = next_task(session, a.actor, project, lease_seconds=60)
        assert task is not None
        label_id = submit_label(
            session, a.actor, project, task.item_id, "music", ledger=ledger
        ).label.id
    with pytest.raises(Conflict, match="ledger keys"), db.transaction() as session:
        submit_review(session, rev.actor, project, label_id, verdict="reject", reason="wrong")
    with db.transaction() as session:
        submit_review(
            session, rev.actor, project, label_id, verdict="reject", reason="wrong", ledger=ledger
        )
    with db.engine.connect() as connection:
        from sqlalchemy import text

        net = connection.execute(text("SELECT sum(delta_minor) FROM ledger_entries")).scalar_one()
    assert net == 0


def test_reviews_are_checked_against_gold(db: Database) -> None:
    a, rev = make_user(db, "a"), make_user(db, "rev")
    project = make_project(
        db,
        config={**REVIEWED, "quality": {"gold_rate": 0.5}},
        members={a: "annotator", rev: "reviewer"},
    )
    add_items(db, project, 1)
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", "call")])
    hold(db, a, project, 1)  # gold is answered only under the lease it was served with
    with db.transaction() as session:
        label_id = submit_label(session, a.actor, project, 1, "music").label.id
    with db.transaction() as session:
        submit_review(session, rev.actor, project, label_id, verdict="accept")
    checked = reputation_of(db, rev.id)["general"].reputation.contributions
    assert [(c.evidence.kind, c.evidence.success) for c in checked] == [("review_check", 0.0)]


def test_who_may_review_and_what(db: Database) -> None:
    a, b, rev = make_user(db, "a"), make_user(db, "b"), make_user(db, "rev")
    project = make_project(
        db, config=REVIEWED, members={a: "annotator", b: "annotator", rev: "reviewer"}
    )
    add_items(db, project, 2)
    label_id = label(db, a, project)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="trusted"):
        next_review(session, b.actor, project, lease_seconds=60)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="own label"):
        submit_review(session, Actor(a.id, "a", "annotator"), project, label_id, verdict="accept")
    with db.transaction() as session, pytest.raises(InvalidInput, match="reason"):
        submit_review(session, rev.actor, project, label_id, verdict="reject")
    with db.transaction() as session, pytest.raises(InvalidInput, match="verdict"):
        submit_review(session, rev.actor, project, label_id, verdict="maybe")
    with db.transaction() as session, pytest.raises(InvalidInput, match="corrected_answer"):
        submit_review(session, rev.actor, project, label_id, verdict="correct",
                      corrected_answer="call")  # fmt: skip
    with db.transaction() as session, pytest.raises(InvalidInput, match="not a label"):
        submit_review(session, rev.actor, project, label_id, verdict="correct",
                      corrected_answer="dance")  # fmt: skip
    with db.transaction() as session, pytest.raises(NotFound):
        submit_review(session, rev.actor, project, 999, verdict="accept")
    assert count(db, "reviews") == 0


def test_a_trusted_annotator_may_review_in_their_domain(db: Database) -> None:
    from datetime import timedelta

    from loupe.db.models import utcnow
    from loupe.services.people.standing import record_evidence

    a, b = make_user(db, "a"), make_user(db, "b")
    project = make_project(db, config=REVIEWED, members={a: "annotator", b: "annotator"})
    add_items(db, project, 1)
    label_id = label(db, a, project)
    now = utcnow()
    with db.transaction() as session:
        for n in range(30):
            record_evidence(session, user_id=b.id, domain="general", project_id=project,
                            kind="gold", success=1.0, ref=f"gold:item:{n}",
                            now=now - timedelta(minutes=30 - n))  # fmt: skip
    with db.transaction() as session:
        task = next_review(session, b.actor, project, lease_seconds=60)
    assert task is not None
    assert task.label_id == label_id


def test_two_reviews_per_label_decide_by_majority(db: Database) -> None:
    a, r1, r2 = make_user(db, "a"), make_user(db, "r1"), make_user(db, "r2")
    config = {**SCHEMA, "review": {"rate": 1.0, "reviews_per_label": 2}}
    project = make_project(db, config=config, members={a: "annotator", r1: "reviewer",
                                                       r2: "reviewer"})  # fmt: skip
    add_items(db, project, 1)
    label_id = label(db, a, project)
    with db.transaction() as session:
        first = submit_review(session, r1.actor, project, label_id, verdict="accept")
    with db.transaction() as session:
        second = submit_review(session, r2.actor, project, label_id, verdict="reject",
                               reason="not sure")  # fmt: skip
    assert first.status == "pending"
    assert second.status == "rejected"  # a tie is not a majority for acceptance


PERSONAL = "Ana Ruiz ana.ruiz@example.org +44 20 7946 0958 GB82 WEST 1234 5698 7654 32"


def test_a_rejection_reason_passes_the_privacy_gate(db: Database) -> None:
    """Regression (#12): reasons were stored and shown as typed."""
    a, rev = make_user(db, "a"), make_user(db, "rev")
    project = make_project(db, config=REVIEWED, members={a: "annotator", rev: "reviewer"})
    add_items(db, project, 1)
    label_id = label(db, a, project, "music")
    with db.transaction() as session:
        submit_review(
            session, rev.actor, project, label_id, verdict="reject", reason=f"ask {PERSONAL}"
        )
    with db.engine.connect() as connection:
        (stored,) = connection.exec_driver_sql("SELECT reason FROM reviews").one()
    for secret in ("ana.ruiz@example.org", "7946", "GB82", "Ruiz"):
        assert secret not in stored
    assert "[EMAIL]" in stored and "[PHONE]" in stored and "[IBAN]" in stored


def _rejecting_while(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    project: int,
    reviewer: Any,
    label_id: int,
    other: Callable[[Session], Any],
) -> Any:
    """Start a rejection of ``label_id``, stop it once it has read the label's review task,
    run ``other`` in a transaction of its own until it finishes or waits for a lock, then
    let the rejection go on; returns what ``other`` returned or raised."""
    pause = pause_after(monkeypatch, reviews, "_review_task")

    def reject() -> None:
        with db.transaction() as session:
            submit_review(session, reviewer.actor, project, label_id, verdict="reject", reason="no")

    def run_other() -> Any:
        with db.transaction() as session:
            return other(session)

    with ThreadPoolExecutor(1) as pool:
        rejecting = pool.submit(reject)
        assert pause.reached.wait(60)
        running = run_until_blocked(db, run_other)
        pause.go.set()
        rejecting.result(60)
        try:
            return running.result(60)
        except Exception as exc:  # the caller checks what it was
            return exc


def test_a_rejection_keeps_the_count_of_a_label_submitted_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): a rejection locked only the label's review-queue row and
    wrote the item's label count as it had read it, minus one; a submit on the same item
    committed in between was lost from the count (0 stored, 1 label), and the item was
    handed out beyond its overlap."""
    a, b, rev = make_user(db, "a"), make_user(db, "b"), make_user(db, "rev")
    members = {a: "annotator", b: "annotator", rev: "reviewer"}
    project = make_project(db, overlap=3, config=REVIEWED, members=members)
    add_items(db, project, 1)
    label_id = label(db, a, project, "music")
    hold(db, b, project, 1)

    def submit(session: Session) -> int:
        return submit_label(session, b.actor, project, 1, "call").label.id

    assert isinstance(_rejecting_while(db, monkeypatch, project, rev, label_id, submit), int)
    with db.transaction(readonly=True) as session:
        stored = session.scalar(select(Item.label_count))
    assert stored == count(db, "labels") == 1


def test_an_undo_racing_a_rejection_of_the_same_label_is_refused_clearly(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): the rejection held the label's queue row and the undo the
    item; each then waited for the other's row (the label's delete cascades to the queue
    row) and the database aborted one of them with a deadlock, a 500. Both now lock the
    item first: the undo waits, and finds the label gone."""
    a, rev = make_user(db, "a"), make_user(db, "rev")
    project = make_project(db, config=REVIEWED, members={a: "annotator", rev: "reviewer"})
    add_items(db, project, 1)
    label_id = label(db, a, project, "music")

    def undo(session: Session) -> Any:
        return undo_label(session, a.actor, project, 1, grace_seconds=600, lease_seconds=60)

    refused = _rejecting_while(db, monkeypatch, project, rev, label_id, undo)
    assert isinstance(refused, NotFound) and "no label" in refused.message
    assert count(db, "labels") == 0
