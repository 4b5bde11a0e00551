from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import make_project, make_user
from tests.loop_helpers import configure, prediction

from loupe.db.database import Database
from loupe.db.loop_models import Prediction
from loupe.db.models import Item
from loupe.errors import InvalidInput
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.model_loop.predictions import ingest_predictions, model_agreement


def test_selection_sends_the_uncertain_and_an_audit_to_people(db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    configure(db, project, audit_share=0.2, label_share=0.5)
    # Half confident, half uncertain: margin picks the uncertain ones.
    rows = [prediction(i, p=0.98 if i % 2 else 0.34) for i in range(20)]
    with db.transaction() as session:
        result = ingest_predictions(session, Actor.system(), project, rows)
    assert (result.received, result.created, result.to_people, result.model_resolved) == (
        20, 20, 10, 10,
    )  # fmt: skip
    assert result.by_strategy == {"audit": 2, "margin": 8}
    with db.transaction(readonly=True) as session:
        stored = session.execute(
            select(Item.external_id, Item.is_complete, Item.meta, Prediction.resolution,
                   Prediction.strategy, Prediction.inclusion_probability)
            .join(Prediction, Prediction.item_id == Item.id)
        ).all()  # fmt: skip
    by_id = {row[0]: row for row in stored}
    margin = [row for row in stored if row[4] == "margin"]
    assert all(float(by_id[row[0]][2]["prediction"]["confidence"]) < 0.5 for row in margin)
    audit = [row for row in stored if row[4] == "audit"]
    assert all(row[5] == pytest.approx(2 / 20) for row in audit)
    assert all(row[1] for row in stored if row[3] == "model")  # model-resolved: complete
    assert by_id["p0"][2]["prediction"]["label"] == "call"
    # Only the selected items are handed to annotators.
    handed = set()
    with db.transaction() as session:
        while (task := next_task(session, annotator.actor, project, lease_seconds=60)) is not None:
            handed.add(task.external_id)
            submit_label(session, annotator.actor, project, task.item_id, "call")
    assert handed == {row[0] for row in stored if row[3] == "human"}
    with db.transaction(readonly=True) as session:
        agreement = model_agreement(session, Actor.system(), project)
    assert agreement.n_compared == 10 and agreement.agreement == 1.0
    assert agreement.audit_accuracy == 1.0 and agreement.audit_n == 2
    assert agreement.n_model_resolved == 10


def test_predictions_are_idempotent_by_id(db: Database) -> None:
    project = make_project(db)
    configure(db, project)
    rows = [prediction(i) for i in range(6)]
    with db.transaction() as session:
        ingest_predictions(session, Actor.system(), project, rows)
    with db.transaction() as session:
        again = ingest_predictions(session, Actor.system(), project, rows)
    assert (again.created, again.existing, again.to_people, again.model_resolved) == (0, 6, 0, 0)


def test_budget_caps_what_people_see(db: Database) -> None:
    project = make_project(db)
    configure(db, project, label_share=1.0, label_budget=3, audit_share=0.0)
    with db.transaction() as session:
        first = ingest_predictions(
            session, Actor.system(), project, [prediction(i) for i in range(5)]
        )
        second = ingest_predictions(
            session, Actor.system(), project, [prediction(i) for i in range(5, 10)]
        )
    assert (first.to_people, second.to_people) == (3, 0)


def test_novelty_and_out_of_scope_strategies_run(db: Database) -> None:
    project = make_project(db)
    configure(db, project, mix={"novelty": 0.5, "out_of_scope": 0.5}, label_share=0.5)
    with db.transaction() as session:
        result = ingest_predictions(
            session, Actor.system(), project, [prediction(i, p=0.4 + i / 50) for i in range(10)]
        )
    assert result.to_people == 5
    assert set(result.by_strategy) <= {"novelty", "out_of_scope", "audit", "random"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "fly"}, "prediction.label"),
        ({"probabilities": {"call": 0.5, "music": 0.1}}, "sum to"),
        ({"probabilities": {"call": 1.0, "fly": 0.0}}, "unknown labels"),
    ],
)
def test_bad_predictions_are_refused(db: Database, change: dict[str, object], message: str) -> None:
    project = make_project(db)
    row = prediction(0)
    bad = type(row)(**{**{f: getattr(row, f) for f in row.__slots__}, **change})  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match=message), db.transaction() as session:
        ingest_predictions(session, Actor.system(), project, [bad])
