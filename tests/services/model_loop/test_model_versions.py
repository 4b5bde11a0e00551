from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from tests.factories import Person, make_project, make_user
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db import engine as engine_module
from loupe.db.database import Database
from loupe.errors import Conflict
from loupe.learning import Evaluation
from loupe.learning.persistence import ModelStore
from loupe.services.model_loop import training
from loupe.services.model_loop.model_versions import (
    challenger_input,
    champion_model,
    list_model_versions,
    model_key,
    promoted_model,
    retrain,
)
from loupe.services.model_loop.retrain_schedule import claim_retrain, projects_due_for_retrain
from loupe.services.model_loop.retrain_scoring import GoldScore, fit_challenger
from loupe.services.model_loop.training import Fitted, TrainingSet
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


def test_promoted_model_is_kept_and_loaded_after_a_restart(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    store = ModelStore(tmp_path / "models")
    with db.transaction() as session:
        assert champion_model(session, manager.actor, project, store=store) is None
        first = retrain(session, manager.actor, project, store=store)
        second = retrain(session, manager.actor, project, store=store)  # not promoted
    assert first.decision.promote and not second.decision.promote
    assert store.path(model_key(project, 1)).is_file()
    assert not store.path(model_key(project, 2)).exists()  # only promoted versions are kept
    # A restart: a new store object over the same directory, and no trainer may run.
    monkeypatch.setattr(
        "loupe.services.model_loop.training.get_trainer",
        lambda name: pytest.fail("the champion must load without retraining"),
    )
    with db.transaction(readonly=True) as session:
        loaded = champion_model(
            session, manager.actor, project, store=ModelStore(tmp_path / "models")
        )
        assert loaded is not None
        record, model = loaded
        assert record.version == 1 and record.promoted
    assert model.classes_ == first.model.classes_
    probe = ["call the office", "something new"]
    np.testing.assert_array_equal(model.predict_proba(probe), first.model.predict_proba(probe))


def test_champion_without_its_file_means_retrain(db: Database, tmp_path: Path) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction() as session:
        assert retrain(session, manager.actor, project).decision.promote  # no store given
    with db.transaction(readonly=True) as session:
        assert champion_model(session, manager.actor, project, store=ModelStore(tmp_path)) is None


def test_background_retrain_keeps_the_champion(db: Database, tmp_path: Path) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 3)
    store = ModelStore(tmp_path)
    assert retrain_due_projects(db, every=9, store=store) == [project]
    assert store.load(model_key(project, 1)) is not None


def test_a_changed_gold_set_rescores_the_kept_champion(db: Database, tmp_path: Path) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    store = ModelStore(tmp_path / "models")
    with db.transaction() as session:
        assert retrain(session, manager.actor, project, store=store).decision.promote
    add_gold(db, project, n_per_label=6)  # more gold: the old score is not comparable
    with db.transaction() as session:
        kept = retrain(session, manager.actor, project, store=store)
    # The champion was scored again on the new gold set, and the same data is no better.
    assert not kept.decision.promote
    assert kept.record.reason != "no champion yet"
    with db.transaction() as session:  # without the champion's file there is nothing to compare
        fresh = retrain(session, manager.actor, project)
    assert fresh.decision.promote and fresh.record.reason == "no champion yet"


def _fitted_beforehand(db: Database) -> tuple[Person, int, Fitted]:
    """A project with gold and 18 labels, and its challenger fitted outside a transaction."""
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction(readonly=True) as session:
        given = challenger_input(session, project)
    fitted = fit_challenger(given)
    assert fitted is not None
    return manager, project, fitted


def test_a_challenger_fitted_beforehand_gives_the_same_version(db: Database) -> None:
    manager, project, fitted = _fitted_beforehand(db)
    assert fitted.control_model is not None
    with db.transaction() as session:
        inside = retrain(session, manager.actor, project)
    with db.transaction() as session:
        before = retrain(session, manager.actor, project, fitted=fitted)
    assert before.model is fitted.model
    assert before.record.training_hash == inside.record.training_hash
    assert before.record.metrics == inside.record.metrics
    assert before.record.control_metrics == inside.record.control_metrics


def test_background_retrain_fits_without_holding_the_writer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a write transaction open during the fit would hold every submit."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    db = Database(database_url)
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 3)
    fits: list[int] = []
    fit = training.fit

    def fit_while_writing(trainer: str, data: TrainingSet) -> Fitted:
        with db.transaction() as session:  # times out if this thread held the writer
            session.execute(text("UPDATE projects SET name = name WHERE id = 0"))
        fits.append(len(data.texts))
        return fit(trainer, data)

    monkeypatch.setattr(training, "fit", fit_while_writing)
    try:
        assert retrain_due_projects(db, every=9) == [project]
    finally:
        db.dispose()
    assert fits == [9]


def test_gold_scores_of_another_gold_set_are_not_used(db: Database) -> None:
    manager, project, fitted = _fitted_beforehand(db)
    assert fitted.gold is not None
    wrong = Evaluation(**{**fitted.gold.metrics.as_dict(), "accuracy": 0.0, "macro_f1": 0.0})
    stale = replace(fitted, gold=GoldScore("a gold set changed since", wrong, None))
    with db.transaction() as session:
        used = retrain(session, manager.actor, project, fitted=stale)
    assert used.record.metrics == fitted.gold.metrics.as_dict()
    assert used.record.control_metrics == fitted.gold.control_metrics
