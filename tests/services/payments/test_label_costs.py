from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from tests.factories import add_items, make_project, make_user

from loupe.db.database import Database
from loupe.db.models import Label, utcnow
from loupe.errors import PermissionDenied
from loupe.ledger.entries import PaymentEntry, utc_seconds
from loupe.services.access import Actor
from loupe.services.labelling.escalation_queue import escalation_queue, next_adjudication
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.payments.label_costs import cost_per_accurate_label
from loupe.services.payments.ledger_store import NewEntry, append_entries
from loupe.services.quality.gold import set_gold


def _label(db: Database, actor: Actor, project: int, answer: str) -> int:
    with db.transaction() as session:
        task = next_task(session, actor, project, lease_seconds=60)
        assert task is not None
        submit_label(session, actor, project, task.item_id, answer)
        return task.item_id


def test_a_gold_answer_overrules_the_consensus_and_unsettled_labels_wait(db: Database) -> None:
    people = [make_user(db, name) for name in ("maya", "ben", "cat")]
    project = make_project(db, overlap=3, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 2)
    for person, answer in zip(people, ["call", "call", "navigate"], strict=True):
        _label(db, person.actor, project, answer)  # u0: the crowd says call
    _label(db, people[0].actor, project, "music")  # u1: one label of three, no consensus yet
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", "navigate")])
    with db.transaction(readonly=True) as session:
        costs = cost_per_accurate_label(session, Actor.system(), project, days=3)
    assert len(costs.days) == 3 and costs.currency is None  # no rate card: nothing spent
    today = costs.days[-1]
    assert (today.labels, today.accurate) == (4, 1)  # only cat matches the gold answer
    assert today.per_accurate_minor == 0.0


def test_spending_by_day_in_the_main_currency_without_payouts(db: Database) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 2)
    _label(db, maya.actor, project, "call")
    _label(db, maya.actor, project, "music")
    now = utcnow()
    with db.transaction() as session:
        session.execute(
            update(Label).where(Label.item_id == 1).values(created_at=now - timedelta(days=1))
        )
        # Spending is summed from the entries' logged bytes (payouts carry no project).
        entries = [
            NewEntry(
                entry=PaymentEntry(
                    kind="earning",
                    contributor="c" * 64,
                    item=f"{idx:064x}",
                    amount_minor=amount,
                    currency=currency,
                    rule="label.accepted",
                    rate_card_version=f"p{project}.v1",
                    timestamp=utc_seconds(now - timedelta(days=days_ago)),
                ),
                user_id=maya.id,
                project_id=project,
            )
            for idx, (amount, currency, days_ago) in enumerate(
                [(40, "EUR", 1), (10, "EUR", 0), (7, "USD", 0)]
            )
        ]
        append_entries(session, entries, keys=None, checkpoint_every=10**9)
    with db.transaction(readonly=True) as session:
        costs = cost_per_accurate_label(session, Actor.system(), project, days=2, now=now)
    assert costs.currency == "EUR"
    assert [(d.spent_minor, d.labels, d.accurate) for d in costs.days] == [(40, 1, 1), (10, 1, 1)]
    assert [d.per_accurate_minor for d in costs.days] == [40.0, 10.0]
    assert costs.overall_minor == 25.0


def test_only_those_who_manage_payments_see_costs_and_only_adjudicators_adjudicate(
    db: Database,
) -> None:
    rev, boss = make_user(db, "rev"), make_user(db, "boss", "manager")
    project = make_project(db, members={rev: "reviewer", boss: "manager"})
    with db.transaction(readonly=True) as session, pytest.raises(PermissionDenied):
        cost_per_accurate_label(session, rev.actor, project)
    with db.transaction(readonly=True) as session:
        assert escalation_queue(session, rev.actor, project).open == 0
        assert next_adjudication(session, boss.actor, project) is None
        with pytest.raises(PermissionDenied):
            next_adjudication(session, rev.actor, project)
