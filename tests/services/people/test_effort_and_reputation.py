from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from tests.factories import SCHEMA, add_items, hold_in, make_project, make_user

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.errors import PermissionDenied
from loupe.label_schema import LabelSchema
from loupe.reputation import Evidence, ReputationPolicy, score
from loupe.services.access import Actor
from loupe.services.labelling.effort_checks import check_effort
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people.standing import explain, record_evidence


def test_a_contributor_who_answers_everything_alike_is_paused_with_the_reason(
    db: Database,
) -> None:
    honest, clicker = make_user(db, "honest"), make_user(db, "clicker")
    project = make_project(db, overlap=2, members={honest: "annotator", clicker: "annotator"})
    add_items(db, project, 40)
    keys = ["call", "music", "navigate"]
    for n in range(40):
        with db.transaction() as session:
            task = next_task(session, honest.actor, project, lease_seconds=60)
            assert task is not None
            submit_label(session, honest.actor, project, task.item_id, keys[n % 3],
                         lead_time_ms=6000)  # fmt: skip
    paused_after = None
    for n in range(25):
        try:
            with db.transaction() as session:
                task = next_task(session, clicker.actor, project, lease_seconds=60)
                assert task is not None
                submit_label(
                    session, clicker.actor, project, task.item_id, "call", lead_time_ms=400
                )
        except PermissionDenied:
            paused_after = n
            break
    assert paused_after is not None and 20 <= paused_after <= 25  # checked every 10th label
    with db.transaction() as session:
        findings = check_effort(
            Raw(session), session, project_id=project, user_id=clicker.id,
            schema=LabelSchema.model_validate(SCHEMA), label_id=0, now=utcnow(), force=True,
        )  # fmt: skip
    assert findings == ["too_fast", "one_answer"]
    with db.engine.connect() as connection:
        reason = connection.execute(
            text("SELECT paused_reason FROM memberships WHERE user_id = :u"), {"u": clicker.id}
        ).scalar_one()
        audited = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'member.pause'")
        ).scalar_one()
    assert reason is not None and "0.07 x the project's median" in reason
    assert audited >= 1
    with db.transaction() as session, pytest.raises(PermissionDenied, match="paused"):
        next_task(session, clicker.actor, project, lease_seconds=60)
    with db.transaction() as session:
        assert check_effort(
            Raw(session), session, project_id=project, user_id=honest.id,
            schema=LabelSchema.model_validate(SCHEMA), label_id=0, now=utcnow(), force=True,
        ) == []  # fmt: skip


def test_the_stored_state_equals_the_score_recomputed_from_the_events(db: Database) -> None:
    person = make_user(db, "p")
    start = utcnow() - timedelta(days=200)
    history = []
    for n in range(12):
        at = start + timedelta(days=15 * n)
        success = 1.0 if n % 4 else 0.0
        kind = ("gold", "review_received", "review_check", "consensus")[n % 4]
        history.append(Evidence(kind=kind, success=success, at=at, ref=f"r{n}"))
        with db.transaction() as session:
            record_evidence(session, user_id=person.id, domain="medical", project_id=None,
                            kind=kind, success=success, ref=f"r{n}", now=at)  # fmt: skip
    last = history[-1].at
    with db.transaction(readonly=True) as session:
        (explained,) = explain(session, Actor.system(), person.id, now=last)
        stored = session.execute(
            text("SELECT mean, lower, tier FROM reputations WHERE user_id = :u"), {"u": person.id}
        ).one()
    batch = score(history, now=last, policy=ReputationPolicy())
    assert explained.reputation.mean == pytest.approx(batch.mean, abs=1e-9)
    assert stored[0] == pytest.approx(batch.mean, abs=1e-9)
    assert stored[1] == pytest.approx(batch.lower, abs=1e-9)
    assert stored[2] == explained.tier.tier
    assert len(explained.reputation.contributions) == 12
    assert explained.tier.rule.startswith(explained.tier.tier)


def test_only_managers_auditors_and_oneself_read_a_reputation(db: Database) -> None:
    a, b = make_user(db, "a"), make_user(db, "b")
    with db.transaction(readonly=True) as session:
        assert explain(session, a.actor, a.id) == []
        with pytest.raises(PermissionDenied):
            explain(session, b.actor, a.id)
        assert explain(session, Actor(None, "aud", "auditor"), a.id) == []


def test_a_trusted_contributor_earns_the_tier_multiplier(db: Database, tmp_path: Any) -> None:
    from tests.factories import make_rate_card

    from loupe.services.payments.ledger_keys import LedgerConfig, init_keys

    keys = init_keys(tmp_path / "keys", origin="test/log")
    ledger = LedgerConfig(keys=keys, checkpoint_every=1000)
    new, trusted = make_user(db, "new"), make_user(db, "trusted")
    project = make_project(db, overlap=2, members={new: "annotator", trusted: "annotator"})
    make_rate_card(db, project, {"currency": "EUR", "rates": [{"amount_minor": 100}]})
    add_items(db, project, 1)
    now = utcnow()
    with db.transaction() as session:
        for n in range(30):
            record_evidence(session, user_id=trusted.id, domain="general", project_id=project,
                            kind="gold", success=1.0, ref=f"g{n}",
                            now=now - timedelta(minutes=31 - n))  # fmt: skip
    for person in (new, trusted):
        with db.transaction() as session:
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, "call", ledger=ledger)
    with db.engine.connect() as connection:
        paid = dict(
            connection.execute(text("SELECT user_id, delta_minor FROM ledger_entries")).all()
        )
    assert paid == {new.id: 100, trusted.id: 110}  # trusted: 1.1x (loupe.reputation.TIER_UNLOCKS)
