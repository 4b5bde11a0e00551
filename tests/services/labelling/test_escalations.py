from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from tests.factories import (
    OPEN_HEALTH,
    add_rows,
    count,
    grant_level,
    hold,
    make_project,
    make_user,
)

from loupe.db.database import Database
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.services.access import Actor
from loupe.services.labelling.escalations import flag_item, next_expert_task, resolve_escalation
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people.standing import explain
from loupe.services.quality.refits import refit

ITEMS = [
    {"id": "m1", "text": "take two tablets?", "domain": "medical"},
    {"id": "g1", "text": "play jazz"},
]


def setup(db: Database) -> tuple[Any, Any, Any, Any, int]:
    crowd, doc, gp, mgr = (make_user(db, n) for n in ("crowd", "doc", "gp", "mgr"))
    project = make_project(
        db,
        overlap=2,
        members={crowd: "annotator", doc: "annotator", gp: "annotator", mgr: "manager"},
        config=OPEN_HEALTH,
    )
    add_rows(db, project, ITEMS)
    grant_level(db, doc, "medical", 3)
    grant_level(db, gp, "medical", 1)
    return crowd, doc, gp, mgr, project


def test_flag_then_expert_answers_and_the_crowd_is_scored(db: Database) -> None:
    crowd, doc, gp, _, project = setup(db)
    with db.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=60)
        assert task is not None and task.external_id == "m1"
        submit_label(session, crowd.actor, project, task.item_id, "music")
    with db.transaction() as session:
        flagged = flag_item(session, crowd.actor, project, 1, reason="medical advice")
        assert flagged.stage == "expert" and flagged.flagged_by == crowd.id
        again = flag_item(session, crowd.actor, project, 1, reason="still")
        assert again.reason == "flagged: medical advice"
    with db.transaction() as session:  # out of the crowd's queue
        other = next_task(session, gp.actor, project, lease_seconds=60)
        assert other is not None and other.external_id == "g1"
    with db.transaction() as session, pytest.raises(PermissionDenied, match="level 3"):
        next_expert_task(session, gp.actor, project, lease_seconds=60)
    with db.transaction() as session:
        expert = next_expert_task(session, doc.actor, project, lease_seconds=60)
        assert expert is not None and expert.reason == "flagged: medical advice"
        done = resolve_escalation(session, doc.actor, project, 1, answer="call")
    assert done.resolved_at is not None and done.answer == "call"
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT CAST(answer AS TEXT), method FROM consensus")).one()
    assert tuple(row) == ('"call"', "expert")
    with db.transaction(readonly=True) as session:
        (rep,) = explain(session, Actor.system(), crowd.id)
    assert rep.domain == "medical"
    assert [(c.evidence.kind, c.evidence.success) for c in rep.reputation.contributions] == [
        ("consensus", 0.0)
    ]
    with db.transaction() as session:  # a re-fit keeps the expert's answer
        refit(session, project)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT method FROM consensus")).scalar_one() == "expert"


def test_an_expert_passes_up_and_a_manager_adjudicates(db: Database) -> None:
    crowd, doc, _, mgr, project = setup(db)
    with db.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=60)
        assert task is not None
        flag_item(session, crowd.actor, project, task.item_id, reason="unclear")
    with db.transaction() as session:
        up = resolve_escalation(session, doc.actor, project, 1, pass_up="policy question")
    assert up.stage == "adjudicator"
    with db.transaction() as session, pytest.raises(PermissionDenied, match="adjudicator"):
        resolve_escalation(session, doc.actor, project, 1, answer="call")
    with db.transaction() as session:
        assert next_expert_task(session, doc.actor, project, lease_seconds=60) is None
        done = resolve_escalation(session, mgr.actor, project, 1, answer="navigate")
    assert done.answer == "navigate"
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT method FROM consensus")).scalar_one() == (
            "adjudicator"
        )


def test_flagging_needs_a_reason_and_an_item_you_work_on(db: Database) -> None:
    _, _, gp, _, project = setup(db)
    with db.transaction() as session, pytest.raises(InvalidInput, match="reason"):
        flag_item(session, gp.actor, project, 2, reason="  ")
    with db.transaction() as session, pytest.raises(Conflict, match="hold a task"):
        flag_item(session, gp.actor, project, 2, reason="why not")
    with db.transaction() as session, pytest.raises(NotFound):
        flag_item(session, gp.actor, project, 99, reason="x")
    with db.transaction() as session, pytest.raises(NotFound, match="no open escalation"):
        resolve_escalation(session, Actor.system(), project, 2, answer="call")
    assert count(db, "escalations") == 0


def test_resolve_validates_the_answer(db: Database) -> None:
    crowd, doc, _, _, project = setup(db)
    with db.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=60)
        assert task is not None
        flag_item(session, crowd.actor, project, task.item_id, reason="unclear")
    with db.transaction() as session, pytest.raises(InvalidInput, match="not a label"):
        resolve_escalation(session, doc.actor, project, 1, answer="dance")
    with db.transaction() as session, pytest.raises(InvalidInput, match="answer"):
        resolve_escalation(session, doc.actor, project, 1)


def test_an_adjudicator_settles_an_item_no_expert_can_take(db: Database) -> None:
    crowd, _, _, mgr, project = setup(db)
    with db.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=60)
        assert task is not None
        flag_item(session, crowd.actor, project, task.item_id, reason="nobody knows")
    with db.transaction() as session:
        done = resolve_escalation(session, mgr.actor, project, task.item_id, answer="call")
    assert done.stage == "expert" and done.resolved_by == mgr.id
    with db.engine.connect() as connection:
        method = connection.execute(text("SELECT method FROM consensus")).scalar_one()
    assert method == "adjudicator"


PERSONAL = "Ana Ruiz ana.ruiz@example.org +44 20 7946 0958 GB82 WEST 1234 5698 7654 32"


def test_flag_and_pass_up_reasons_pass_the_privacy_gate(db: Database) -> None:
    """Regression (#12): flag and pass-up reasons reached experts, managers and auditors
    as typed."""
    crowd, doc, _, _, project = setup(db)
    with db.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=60)
        assert task is not None
        flag_item(session, crowd.actor, project, task.item_id, reason=f"call {PERSONAL}")
    with db.transaction() as session:
        expert = next_expert_task(session, doc.actor, project, lease_seconds=60)
        assert expert is not None
        assert "ana.ruiz" not in expert.reason and "[EMAIL]" in expert.reason
        resolve_escalation(session, doc.actor, project, expert.item_id, pass_up=f"ask {PERSONAL}")
    with db.engine.connect() as connection:
        (stored,) = connection.execute(text("SELECT reason FROM escalations")).one()
    for secret in ("ana.ruiz@example.org", "7946", "GB82", "Ruiz"):
        assert secret not in stored
    assert stored.count("[EMAIL]") == 2


def test_erasing_the_subject_erases_the_reasons_written_about_its_items(db: Database) -> None:
    """Reasons belong to the item's subject: erasure finds them (they go with the item)."""
    from loupe.services.compliance.subjects import erase_subject

    crowd, _, _, _, project = setup(db)
    row = {"id": "s1", "text": "what is my dosage", "subject_id": "ana"}
    add_rows(db, project, [row], ref_key=bytes(32))
    with db.transaction() as session:
        item_id = int(
            session.execute(text("SELECT id FROM items WHERE external_id = 's1'")).scalar_one()
        )
    hold(db, crowd, project, item_id)
    with db.transaction() as session:
        flag_item(session, crowd.actor, project, item_id, reason="she said it hurts since May")
    assert count(db, "escalations") == 1
    with db.transaction() as session:
        erase_subject(session, Actor.system(), "ana", ref_key=bytes(32))
    assert count(db, "escalations") == 0
