"""Boxes in the live loop: answers checked against the image, fused consensus, box gold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from tests.factories import add_items, add_media, count, hold_in, make_project, make_user

from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.quality.gold import set_gold

LABELS = [{"key": "cup"}, {"key": "sign"}]


def box(x: float, y: float, w: float, h: float, label: str = "cup") -> dict[str, Any]:
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def _project(db: Database, people: list[Any], *, overlap: int = 3, **policy: Any) -> int:
    config = {"task": {"type": "boxes", "labels": LABELS}, "quality": policy}
    project = make_project(
        db, overlap=overlap, members=dict.fromkeys(people, "annotator"), config=config
    )
    add_items(db, project, 2)
    for item in (1, 2):
        add_media(db, item, size=(640, 480))
    return project


def test_boxes_are_checked_against_the_served_image(db: Database) -> None:
    ann = make_user(db, "ann")
    project = _project(db, [ann])
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
    with db.transaction() as session, pytest.raises(InvalidInput, match="outside the 640x480"):
        submit_label(session, ann.actor, project, 1, [box(600, 0, 50, 50)])
    assert count(db, "labels") == 0
    with db.transaction() as session:
        done = submit_label(
            session, ann.actor, project, 1, [box(600, 0, 40.3, 50), box(0, 0, 9, 9)]
        )
    assert done.label.answer == [box(0.0, 0.0, 9.0, 9.0), box(600.0, 0.0, 40.0, 50.0)]


def test_live_consensus_fuses_boxes(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people)
    answers = [
        [box(10, 10, 100, 50), box(300, 300, 40, 40, "sign")],
        [box(12, 10, 100, 50), box(302, 300, 40, 40, "sign")],
        [box(14, 10, 100, 50, "sign")],
    ]
    with db.transaction() as session:
        for person, answer in zip(people, answers, strict=True):
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, answer)
    with db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT answer, support, n_labels, confidence, method FROM consensus")
        ).one()
        complete = connection.execute(text("SELECT is_complete FROM items WHERE id = 1")).scalar()
    answer = row[0] if isinstance(row[0], list) else json.loads(row[0])
    assert answer == [box(12.0, 10.0, 100.0, 50.0), box(301.0, 300.0, 40.0, 40.0, "sign")]
    assert (row[1], row[2], row[4]) == (2, 3, "boxes")  # two answers match the fused boxes
    assert 0.5 < row[3] < 1.0
    assert complete in (1, True)


def test_dynamic_overlap_stops_when_boxes_agree(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, dynamic_overlap=True, target=0.9, min_labels=1)
    same = [box(10, 10, 100, 50)]
    with db.transaction() as session:
        hold_in(session, people[0].id, project, 1)
        submit_label(session, people[0].actor, project, 1, same)
    with db.engine.connect() as connection:
        # One label agrees with itself: not done on one.
        assert connection.execute(text("SELECT is_complete FROM items WHERE id = 1")).scalar() in (
            0,
            False,
        )
    with db.transaction() as session:
        hold_in(session, people[1].id, project, 1)
        submit_label(session, people[1].actor, project, 1, same)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT is_complete FROM items WHERE id = 1")).scalar() in (
            1,
            True,
        )


def test_box_gold_scores_by_iou(db: Database) -> None:
    good, poor = make_user(db, "good"), make_user(db, "poor")
    project = _project(db, [good, poor])
    gold = [box(10, 10, 100, 50), box(300, 300, 40, 40, "sign")]
    with db.transaction() as session, pytest.raises(InvalidInput, match="outside"):
        set_gold(session, Actor.system(), project, [("u0", [box(630, 0, 20, 20)])])
    assert count(db, "gold_answers") == 0
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", gold)])
    with db.transaction() as session:
        hold_in(session, good.id, project, 1)
        hold_in(session, poor.id, project, 1)
        close = [box(12, 11, 98, 50), box(301, 300, 40, 41, "sign")]
        assert submit_label(session, good.actor, project, 1, close).gold.correct  # type: ignore[union-attr]
        wrong = [box(12, 11, 98, 50), box(301, 300, 40, 41, "cup")]  # F1 0.5 < 0.8
        assert not submit_label(session, poor.actor, project, 1, wrong).gold.correct  # type: ignore[union-attr]


def test_rate_cards_pay_per_image_and_per_box(db: Database, tmp_path: Any) -> None:
    from tests.factories import make_rate_card

    from loupe.services.payments import earnings
    from loupe.services.payments.ledger_keys import LedgerConfig, init_keys

    cfg = LedgerConfig(keys=init_keys(tmp_path / "keys", origin="test.loupe/boxes"))
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = _project(db, [ann, bob])
    card = {"currency": "EUR", "rates": [{"task_type": "boxes", "amount_minor": 4,
                                          "per_box_minor": 2}]}  # fmt: skip
    make_rate_card(db, project, card)
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
        hold_in(session, bob.id, project, 1)
        submit_label(
            session, ann.actor, project, 1, [box(0, 0, 9, 9), box(20, 0, 9, 9)], ledger=cfg
        )
        submit_label(session, bob.actor, project, 1, [], ledger=cfg)
    with db.transaction(readonly=True) as session:
        owed = {
            person.username: earnings.balances(session, person.id, secret=cfg.keys.secret)
            for person in (ann, bob)
        }
    assert owed["ann"] == [earnings.Balance("EUR", 8, 0, 8)]  # 4 per image + 2 x 2 boxes
    assert owed["bob"] == [earnings.Balance("EUR", 4, 0, 4)]  # an empty image still counts


def test_consensus_evidence_for_boxes_is_the_f1_against_the_fused_boxes(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people)
    cup = box(10, 10, 100, 50)
    answers = [[cup], [cup], [cup, box(400, 400, 30, 30, "sign")]]
    with db.transaction() as session:
        for person, answer in zip(people, answers, strict=True):
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, answer)
    with db.engine.connect() as connection:
        confidence = connection.execute(text("SELECT confidence FROM consensus")).scalar_one()
        evidence: dict[int, float] = dict(
            connection.execute(
                text("SELECT user_id, success FROM reputation_events WHERE kind = 'consensus'")
            ).all()
        )
    assert confidence == pytest.approx((1.0 + 2 / 3) / 2)  # kept cup 1 x 1, dropped sign 1 - 1/3
    assert evidence == pytest.approx({people[0].id: 1.0, people[1].id: 1.0, people[2].id: 2 / 3})


def test_an_adjudicated_answer_agrees_with_crowd_boxes_that_match_it(db: Database) -> None:
    """Regression: settling an escalation counted a crowd answer as agreeing only when it
    was equal to the pixel, so every box-drawer was scored as wrong."""
    from loupe.services.labelling.escalations import flag_item, resolve_escalation

    near, far = make_user(db, "near"), make_user(db, "far")
    manager = make_user(db, "boss")
    project = _project(db, [near, far])
    with db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO memberships (project_id, user_id, role, created_at) "
                "VALUES (:p, :u, 'manager', CURRENT_TIMESTAMP)"
            ),
            {"p": project, "u": manager.id},
        )
    with db.transaction() as session:
        for person, answer in ((near, [box(12, 10, 100, 50)]), (far, [box(300, 300, 40, 40)])):
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, answer)
        flag_item(session, near.actor, project, 1, reason="which cup?")
    with db.transaction() as session:
        resolve_escalation(session, manager.actor, project, 1, answer=[box(10, 10, 100, 50)])
    with db.engine.connect() as connection:
        support = connection.execute(text("SELECT support FROM consensus")).scalar_one()
        evidence = dict(
            connection.execute(
                text(
                    "SELECT user_id, success FROM reputation_events "
                    "WHERE kind = 'consensus' AND ref LIKE 'escalation:%'"
                )
            ).all()
        )
    assert support == 2  # the adjudicator and the near cup
    assert evidence == {near.id: 1.0, far.id: 0.0}
