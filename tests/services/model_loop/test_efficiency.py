"""The label-efficiency report's random control: audit-only, or equal budgets simulated."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from tests.factories import Person, make_project, make_user
from tests.loop_helpers import WORDS, add_gold, configure, label_items, prediction

from loupe.db.database import Database
from loupe.db.loop_models import Prediction
from loupe.db.models import Item
from loupe.errors import PermissionDenied
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.model_loop.efficiency import ControlItem, label_efficiency
from loupe.services.model_loop.model_versions import retrain
from loupe.services.model_loop.predictions import ingest_predictions

LABELS = sorted(WORDS)
TRUTH = {f"p{i}": LABELS[i % 3] for i in range(60)}


def _loop(db: Database) -> tuple[int, Person]:
    """Seed (2 per label) -> v1; two batches of 30 predictions, the selected ones
    labelled by people with the truth -> v2, v3."""
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project, audit_share=0.2, label_share=0.4)
    add_gold(db, project)
    label_items(db, project, manager, 2)
    with db.transaction() as session:
        retrain(session, manager.actor, project)
    for batch in range(2):
        rows = [
            prediction(i, TRUTH[f"p{i}"], p=0.4 + 0.5 * ((i * 7) % 10) / 10)
            for i in range(30 * batch, 30 * batch + 30)
        ]
        with db.transaction() as session:
            ingest_predictions(session, Actor.system(), project, rows)
        with db.transaction() as session:
            while (
                task := next_task(session, manager.actor, project, lease_seconds=60)
            ) is not None:
                submit_label(session, manager.actor, project, task.item_id, TRUTH[task.external_id])
        with db.transaction() as session:
            retrain(session, manager.actor, project)
    return project, manager


def _truth(item: ControlItem, rng: np.random.Generator) -> str:
    return TRUTH[item.external_id]


def test_the_stored_control_is_audit_only_and_says_so(db: Database) -> None:
    project, manager = _loop(db)
    with db.transaction(readonly=True) as session:
        report = label_efficiency(session, manager.actor, project)
        audit = session.scalar(
            select(Item.id).join(Prediction, Prediction.item_id == Item.id).where(
                Prediction.strategy == "audit"
            ).limit(1)
        )  # fmt: skip
    control = report.control
    assert audit is not None  # the audit drew some items
    assert control.kind == "audit" and control.name == "random control (audit items only)"
    assert [c.budget for c in control.points] == [p.n_items for p in report.points] == [6, 18, 30]
    assert [c.n_items for c in control.points] == [p.control_items for p in report.points]
    assert not control.equal_budgets  # it stops at the audit's size


def test_the_simulated_control_has_the_strategy_budgets_and_is_deterministic(
    db: Database,
) -> None:
    project, manager = _loop(db)
    with db.transaction(readonly=True) as session:
        runs = [
            label_efficiency(
                session, manager.actor, project, simulate=_truth, draws=3, random_state=seed
            ).control
            for seed in (1, 1, 2)
        ]
        report = label_efficiency(session, manager.actor, project)
    first, again, other = runs
    assert first.kind == "simulated" and "SIMULATED" in first.name and first.equal_budgets
    budgets = [p.n_items for p in report.points]
    assert [c.budget for c in first.points] == budgets == [c.n_items for c in first.points]
    assert [c.version for c in first.points] == [p.version for p in report.points]
    assert first == again and first.points != other.points
    # v1 trained on the seed alone: the control is the same model, in every draw.
    assert first.points[0].accuracy == pytest.approx(report.points[0].accuracy)
    assert first.points[0].sd == 0.0 and first.points[0].simulated == 0.0
    # Later budgets drew items nobody labelled: simulated, counted.
    assert all(c.draws == 3 and c.accuracy is not None for c in first.points)
    assert first.points[-1].simulated > 0


def test_the_simulated_labels_go_only_to_items_people_did_not_label(db: Database) -> None:
    project, manager = _loop(db)
    asked: list[str] = []

    def simulate(item: ControlItem, rng: np.random.Generator) -> str:
        asked.append(item.external_id)
        return TRUTH[item.external_id]

    with db.transaction(readonly=True) as session:
        label_efficiency(session, manager.actor, project, simulate=simulate, draws=2)
        labelled = set(
            session.scalars(
                select(Item.external_id)
                .join(Prediction, Prediction.item_id == Item.id)
                .where(Prediction.resolution == "human")
            )
        )
    assert asked and not labelled.intersection(asked)


def test_the_report_needs_the_right_to_read_labels(db: Database) -> None:
    project, _ = _loop(db)
    outsider = make_user(db, "out", "annotator")
    with pytest.raises(PermissionDenied), db.transaction(readonly=True) as session:
        label_efficiency(session, outsider.actor, project, simulate=_truth)
