from __future__ import annotations

from sqlalchemy import update
from tests.factories import make_project, make_user
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.services.access import Actor
from loupe.services.model_versions import retrain
from loupe.services.subjects import erase_subject


def test_the_erasure_receipt_names_the_model_versions_trained_on_the_subject(
    db: Database,
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction() as session:
        trained = retrain(session, manager.actor, project).record
        assert "l-call-0" in trained.training_ids
        session.execute(
            update(Item).where(Item.external_id == "l-call-0").values(subject_id="alice")
        )
        session.execute(update(Item).where(Item.external_id == "g-call-0").values(subject_id="bob"))
    with db.transaction() as session:
        alice = erase_subject(session, Actor.system(), "alice")
        bob = erase_subject(session, Actor.system(), "bob")
    assert alice.receipt["trained_model_versions"] == [f"project:{project}/v1"]
    assert bob.receipt["trained_model_versions"] == []  # gold items are not trained on
