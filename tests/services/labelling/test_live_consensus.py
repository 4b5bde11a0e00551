"""Live consensus after each submission: dynamic overlap stops or escalates items."""

from __future__ import annotations

from sqlalchemy import text
from tests.factories import add_items, hold_in, make_project, make_user

from loupe.db.database import Database
from loupe.services.labelling.labels import submit_label


def test_dynamic_overlap_stops_confident_items_and_escalates_split_ones(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(4)]
    config = {
        "task": {"type": "single_choice", "labels": [{"key": "call"}, {"key": "music"}]},
        "quality": {"dynamic_overlap": True, "target": 0.9, "min_labels": 2},
    }
    project = make_project(db, overlap=4, members=dict.fromkeys(people, "annotator"), config=config)
    add_items(db, project, 2)
    with db.transaction() as session:
        # Item 1: two agreeing labels from default-skill (0.7) workers reach > 0.9... not yet
        for person in people[:3]:
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, "call")
        for person, answer in zip(people, ["call", "music", "call", "music"], strict=True):
            hold_in(session, person.id, project, 2)
            submit_label(session, person.actor, project, 2, answer)
    with db.engine.connect() as connection:
        complete = dict(connection.execute(text("SELECT id, is_complete FROM items")).all())
        escalated = connection.execute(text("SELECT item_id FROM escalations")).scalars().all()
        consensus = dict(
            connection.execute(text("SELECT item_id, confidence FROM consensus")).all()
        )
    assert complete[1] in (1, True)  # three agreeing labels: confident, done before the maximum
    assert consensus[1] > 0.9
    assert escalated == [2]  # split 2-2 at the maximum: escalated to experts
