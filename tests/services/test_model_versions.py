from __future__ import annotations

import pytest
from tests.factories import make_project, make_user
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db.database import Database
from loupe.errors import Conflict
from loupe.services.model_versions import (
    claim_retrain,
    list_model_versions,
    projects_due_for_retrain,
    promoted_model,
    retrain,
)
from loupe.web.retrainer import retrain_due_projects


def test_retrain_promotes_only_when_better(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project)
        assert first.decision.promote and first.record.version == 1
        assert first.record.reason == "no champion yet"
        assert len(first.record.training_ids) == 18 and len(first.record.training_hash) == 64
        assert first.record.metrics["accuracy"] == pytest.approx(first.metrics.accuracy)
        assert first.record.control_metrics is not None  # seed items without predictions
    with db.transaction() as session:
        second = retrain(session, manager.actor, project)  # same data: no better
        assert not second.decision.promote and second.record.version == 2
    with db.transaction(readonly=True) as session:
        versions = [v.version for v in list_model_versions(session, manager.actor, project)]
        champion = promoted_model(session, manager.actor, project)
        assert champion is not None and champion.version == 1
    assert versions == [2, 1]


def test_retrain_needs_a_gold_set_and_the_claim(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    label_items(db, project, manager, 2)
    with pytest.raises(Conflict, match="no gold set"), db.transaction() as session:
        retrain(session, manager.actor, project)
    add_gold(db, project)
    with db.transaction() as session:
        assert claim_retrain(session, project)
    with pytest.raises(Conflict, match="retrained already"), db.transaction() as session:
        retrain(session, manager.actor, project)


def test_background_retrain_runs_for_due_projects(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 3)
    with db.transaction(readonly=True) as session:
        assert projects_due_for_retrain(session, every=9) == [project]
        assert projects_due_for_retrain(session, every=10) == []
    assert retrain_due_projects(db, every=9) == [project]
    assert retrain_due_projects(db, every=9) == []  # nothing new since
