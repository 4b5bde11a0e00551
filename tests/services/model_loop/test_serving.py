"""The champion serves after a restart, and challengers are shadowed before promotion."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import select, text
from tests.factories import Person, hashed_trigrams, hold_in, make_project, make_user
from tests.loop_helpers import add_gold, configure, text_for

import loupe.db.engine as engine_module
from loupe.db.database import Database
from loupe.db.loop_models import ModelVersionRecord
from loupe.db.models import Item
from loupe.errors import Conflict, InvalidInput
from loupe.formats import parse_item
from loupe.learning.embeddings import EmbeddingModel
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop import retrain_scoring, training
from loupe.services.model_loop.model_versions import (
    model_key,
    retrain,
    retrain_in_steps,
    shadow_input,
)
from loupe.services.model_loop.retrain_scoring import ShadowScore
from loupe.services.model_loop.serving import ChampionCache, predict
from loupe.services.model_loop.training import Fitted, TrainingSet
from loupe.services.projects import items
from loupe.services.quality import gold

LABELS = ("call", "music", "navigate")


class Always:
    """A model that answers ``navigate`` to everything (pickled into the store)."""

    classes_ = LABELS

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return np.tile(np.array([0.1, 0.1, 0.8]), (len(texts), 1))


def label_range(db: Database, project: int, person: Person, start: int, stop: int) -> None:
    rows = [(f"l-{label}-{i}", label, i) for label in LABELS for i in range(start, stop)]
    records = [
        parse_item({"id": ext, "text": text_for(label, i)}, where="t", text_field="text")
        for ext, label, i in rows
    ]
    with db.transaction() as session:
        items.insert_items(session, Actor.system(), project, records)
    with db.transaction() as session:
        ids = dict(
            session.execute(
                select(Item.external_id, Item.id).where(Item.project_id == project)
            ).all()
        )
        for ext, label, _ in rows:
            hold_in(session, person.id, project, ids[ext])
            submit_label(session, person.actor, project, ids[ext], label)


def _setup(db: Database) -> tuple[Person, int]:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_range(db, project, manager, 0, 2)
    return manager, project


def _shadow_pending(db: Database, tmp_path: Path) -> tuple[Person, int, ModelStore]:
    """A champion (v1) and a challenger in shadow (v2) with 21 live items to judge it on."""
    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    assert _versions(db, project)[2] == (False, "pending")
    label_range(db, project, manager, 2, 9)
    return manager, project, store


def _versions(db: Database, project: int) -> dict[int, tuple[bool, str | None]]:
    with db.transaction(readonly=True) as session:
        rows = session.scalars(
            select(ModelVersionRecord).where(ModelVersionRecord.project_id == project)
        ).all()
        return {row.version: (row.promoted, row.shadow_status) for row in rows}


def test_a_new_cache_loads_the_champion_once_and_never_trains(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project, store=store)
    monkeypatch.setattr(
        "loupe.services.model_loop.training.get_trainer",
        lambda name: pytest.fail("serving must not train"),
    )
    cache = ChampionCache(ModelStore(tmp_path))  # a restarted process
    for _ in range(3):
        with db.transaction(readonly=True) as session:
            served = predict(session, manager.actor, project, ["ring dial now"], cache=cache)
    assert served.model_version == 1 and cache.loads == 1
    assert served.labels == ["call"]
    expected = first.model.predict_proba(["ring dial now"])[0]
    assert [served.probabilities[0][c] for c in served.classes] == pytest.approx(expected, abs=1e-6)


def test_no_champion_or_no_file_is_a_conflict(db: Database, tmp_path: Path) -> None:
    manager, project = _setup(db)
    cache = ChampionCache(ModelStore(tmp_path))
    with pytest.raises(Conflict, match="no promoted model"), db.transaction() as session:
        predict(session, manager.actor, project, ["call"], cache=cache)
    with db.transaction() as session:
        retrain(session, manager.actor, project)  # no store: no file
    with pytest.raises(Conflict, match="no model file"), db.transaction() as session:
        predict(session, manager.actor, project, ["call"], cache=cache)
    with pytest.raises(InvalidInput, match="empty text"), db.transaction() as session:
        predict(session, manager.actor, project, ["call", "  "], cache=cache)


def test_a_challenger_is_shadowed_then_promoted(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    cache = ChampionCache(store)
    with db.transaction() as session:
        assert retrain(session, manager.actor, project, store=store).decision.promote
    label_range(db, project, manager, 2, 6)
    with db.transaction() as session:
        second = retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    # As good on the gold set, but the champion serves until live traffic agrees.
    assert not second.decision.promote and "shadowing" in second.record.reason
    assert _versions(db, project) == {1: (True, None), 2: (False, "pending")}
    assert store.path(model_key(project, 2)).is_file()
    with db.transaction(readonly=True) as session:
        assert predict(session, manager.actor, project, ["play"], cache=cache).model_version == 1
    # Nothing labelled since: the retrain waits and trains nothing.
    with monkeypatch.context() as patch:
        patch.setattr(
            "loupe.services.model_loop.training.get_trainer",
            lambda name: pytest.fail("trained"),
        )
        with db.transaction() as session:
            waiting = retrain(session, manager.actor, project, store=store)
    assert waiting.record.version == 2 and not waiting.decision.promote
    assert "0 of 20 live labelled items" in waiting.record.reason
    label_range(db, project, manager, 6, 13)  # 21 live items, in no training set
    with db.transaction() as session:
        third = retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    with db.transaction(readonly=True) as session:
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.promoted and v2.shadow_status == "promoted"
        assert v2.shadow is not None and v2.shadow["n"] == 21
        assert v2.shadow["champion_version"] == 1
        assert "/21 live items" in v2.reason
        # The promotion is served at once, from the same cache.
        assert predict(session, manager.actor, project, ["play"], cache=cache).model_version == 2
    assert third.record.version == 3 and third.record.shadow_status == "pending"
    assert cache.loads == 2


def test_a_challenger_worse_on_live_traffic_is_rejected(db: Database, tmp_path: Path) -> None:
    manager, project, store = _shadow_pending(db, tmp_path)
    store.save(model_key(project, 2), Always())  # a challenger the gold set flattered
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store, shadow_min_items=20)
    versions = _versions(db, project)
    assert versions[1] == (True, None) and versions[2] == (False, "rejected")
    with db.transaction(readonly=True) as session:
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.shadow is not None
        assert v2.shadow["n"] == 21 and v2.shadow["challenger_correct"] == 7
        assert "a drop above 0.0200" in v2.reason


def test_shadowing_off_promotes_on_the_gold_set(db: Database, tmp_path: Path) -> None:
    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        second = retrain(
            session, manager.actor, project, store=store, min_improvement=0.0, shadow_min_items=0
        )
    assert second.decision.promote and second.record.shadow_status is None


def test_an_erasure_ends_a_challenger_in_shadow(db: Database, tmp_path: Path) -> None:
    from loupe.services.model_loop.model_versions import retire_trained_on

    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
    label_range(db, project, manager, 2, 3)
    with db.transaction() as session:
        pending = retrain(session, manager.actor, project, store=store, min_improvement=0.0)
        assert pending.record.shadow_status == "pending"
        newest = max(int(i) for i in pending.record.training_ids)
    with db.transaction() as session:  # an item only the challenger trained on is erased
        retire_trained_on(session, [newest])
    assert _versions(db, project) == {1: (True, None), 2: (False, "rejected")}
    label_range(db, project, manager, 3, 11)
    with db.transaction() as session:
        third = retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    assert third.record.version == 3  # trained anew; version 2 is never promoted
    assert _versions(db, project)[2] == (False, "rejected")


def test_the_docstring_example_runs() -> None:
    import doctest

    from loupe.services.model_loop import serving

    assert doctest.testmod(serving).failed == 0


def test_a_newer_champion_supersedes_the_challenger_in_shadow(db: Database, tmp_path: Path) -> None:
    manager, project = _setup(db)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        retrain(session, manager.actor, project, store=store, min_improvement=0.0)
        # A retrain without the model directory cannot judge v2: it leaves it alone and
        # promotes v3 on the gold set alone.
        third = retrain(session, manager.actor, project, min_improvement=0.0)
    assert third.decision.promote
    assert _versions(db, project) == {1: (True, None), 2: (False, "pending"), 3: (True, None)}
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.shadow_status == "rejected"
        assert v2.reason.endswith("shadow: superseded by v3")


def test_the_shadow_rule_reads_the_projects_settings(db: Database, tmp_path: Path) -> None:
    """``shadow_min_items`` and ``shadow_max_drop`` come from the project's loop settings."""
    manager, project = _setup(db)
    configure(db, project, shadow_min_items=5, shadow_max_drop=1.0)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    store.save(model_key(project, 2), Always())  # rejected under the default 0.02 drop
    with db.transaction() as session:
        waiting = retrain(session, manager.actor, project, store=store)
    assert "0 of 5 live labelled items" in waiting.record.reason
    label_range(db, project, manager, 2, 4)  # 6 live items: enough for this project
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    assert _versions(db, project)[2] == (True, "promoted")
    with db.transaction(readonly=True) as session:
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.shadow is not None
        assert v2.shadow["n"] == 6 and v2.shadow["challenger_correct"] == 2
        assert (v2.shadow["min_items"], v2.shadow["max_drop"]) == (5, 1.0)


def test_a_project_with_shadowing_off_promotes_on_the_gold_set(
    db: Database, tmp_path: Path
) -> None:
    manager, project = _setup(db)
    configure(db, project, shadow_min_items=0)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
        second = retrain(session, manager.actor, project, store=store, min_improvement=0.0)
    assert second.decision.promote and second.record.shadow_status is None


WITH_OOS: dict[str, Any] = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": k} for k in (*LABELS, "out_of_scope")],
    }
}
FOREIGN = "zebra wax quiz"


def _embedding_project(db: Database, config: dict[str, Any]) -> tuple[Person, int]:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"}, config=config)
    configure(db, project, trainer="embeddings")
    add_gold(db, project)
    record = parse_item({"id": "g-foreign", "text": FOREIGN}, where="t", text_field="text")
    with db.transaction() as session:
        items.insert_items(session, Actor.system(), project, [record])
        gold.set_gold(session, Actor.system(), project, [("g-foreign", "out_of_scope")])
    label_range(db, project, manager, 0, 40)  # 120 labels: 24 held out for the rule
    return manager, project


IN_SCOPE = [text_for("call", 3), text_for("music", 5), text_for("navigate", 6)]


def test_an_embedding_champion_flags_out_of_scope_by_its_own_rule_after_a_restart(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loupe.learning.embeddings.packaged_encoder", lambda: hashed_trigrams)
    manager, project = _embedding_project(db, WITH_OOS)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project, store=ModelStore(tmp_path))
    assert first.decision.promote
    assert getattr(first.model, "out_of_scope_threshold", None) is not None
    # The gold evaluation behind promotion used the rule: the foreign gold item was caught.
    assert first.record.metrics["oos_recall"] == 1.0
    assert isinstance(first.model, EmbeddingModel)
    cut = first.model.out_of_scope_threshold
    assert cut is not None
    assert first.record.metrics["oos_rule"] == f"model: -max logit > {cut:.2f}"
    assert first.record.metrics["threshold"] is None
    cache = ChampionCache(ModelStore(tmp_path))  # a restarted process
    with db.transaction(readonly=True) as session:
        served = predict(session, manager.actor, project, [*IN_SCOPE, FOREIGN], cache=cache)
    assert served.labels == ["call", "music", "navigate", "out_of_scope"]
    # The project's explicit threshold wins: at 0.01 no probability is low enough.
    configure(db, project, trainer="embeddings", oos_threshold=0.01)
    with db.transaction(readonly=True) as session:
        served = predict(session, manager.actor, project, [FOREIGN], cache=cache)
    assert served.labels != ["out_of_scope"]
    with db.transaction() as session:
        second = retrain(session, manager.actor, project, store=ModelStore(tmp_path))
    assert second.record.metrics["oos_rule"] == "project threshold 0.01 (max probability)"


def test_without_an_out_of_scope_label_the_models_rule_flags_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loupe.learning.embeddings.packaged_encoder", lambda: hashed_trigrams)
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})  # call, music, navigate
    configure(db, project, trainer="embeddings")
    add_gold(db, project)
    label_range(db, project, manager, 0, 40)
    store = ModelStore(tmp_path)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project, store=store)
    assert first.decision.promote
    assert getattr(first.model, "out_of_scope_threshold", None) is not None
    assert first.record.metrics["oos_rule"] == "none"
    with db.transaction(readonly=True) as session:
        served = predict(session, manager.actor, project, [FOREIGN], cache=ChampionCache(store))
    assert served.labels[0] in LABELS


def test_the_shadow_is_scored_without_holding_the_writer(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the embeddings trainer the two models' predictions take seconds: on SQLite a
    write transaction open meanwhile would hold every annotator's submit."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    db = Database(database_url)
    try:
        manager, project, store = _shadow_pending(db, tmp_path)
        scored: list[int] = []
        count = retrain_scoring.count_correct

        def count_while_writing(
            model: Any, texts: list[str], answers: list[str], **rule: Any
        ) -> int:
            with db.transaction() as session:  # times out if this thread held the writer
                session.execute(text("UPDATE projects SET name = name WHERE id = 0"))
            scored.append(len(texts))
            return count(model, texts, answers, **rule)

        fits: list[int] = []
        fit = training.fit

        def fit_while_writing(trainer: str, data: TrainingSet) -> Fitted:
            with db.transaction() as session:
                session.execute(text("UPDATE projects SET name = name WHERE id = 0"))
            fits.append(data.size)
            return fit(trainer, data)

        monkeypatch.setattr(retrain_scoring, "count_correct", count_while_writing)
        monkeypatch.setattr(training, "fit", fit_while_writing)
        outcome = retrain_in_steps(db, manager.actor, project, store=store)
        with db.transaction(readonly=True) as session:
            v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
            assert v2 is not None and v2.shadow is not None and v2.shadow["n"] == 21
            assert v2.shadow_status in ("promoted", "rejected")
    finally:
        db.dispose()
    assert scored == [21, 21]  # both models, once each: the write transaction reused them
    # The shadow was settled, so the next challenger was fitted (outside) and recorded.
    assert fits == [27] and outcome.record.version == 3


def test_a_shadow_score_of_other_versions_is_not_used(db: Database, tmp_path: Path) -> None:
    manager, project, store = _shadow_pending(db, tmp_path)
    stale = ShadowScore("scored against another champion", 21, 0, 21)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store, shadow=stale)
    with db.transaction(readonly=True) as session:
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.shadow is not None
        assert v2.shadow["champion_correct"] == v2.shadow["challenger_correct"] == 21
        assert v2.promoted


def test_labels_that_arrive_after_the_shadow_was_scored_count_next_time(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, project, store = _shadow_pending(db, tmp_path)
    with db.transaction(readonly=True) as session:
        given = shadow_input(session, project, store=store)
    assert given is not None and len(given.texts) == 21
    challenger, champion = (store.load(model_key(project, v)) for v in (2, 1))
    assert challenger is not None and champion is not None
    scored = retrain_scoring.score_shadow(given, challenger, champion)
    label_range(db, project, manager, 9, 12)  # 9 more live items while it was scored
    monkeypatch.setattr(
        retrain_scoring, "count_correct", lambda *a, **k: pytest.fail("scored again")
    )
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store, shadow=scored)
    with db.transaction(readonly=True) as session:
        v2 = session.scalar(select(ModelVersionRecord).where(ModelVersionRecord.version == 2))
        assert v2 is not None and v2.shadow is not None and v2.shadow["n"] == 21


def test_an_embedding_model_is_calibrated_on_the_projects_audit_items(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loupe.db.loop_models import Prediction
    from loupe.selection import AUDIT

    monkeypatch.setattr("loupe.learning.embeddings.packaged_encoder", lambda: hashed_trigrams)
    manager, project = _embedding_project(db, WITH_OOS)
    label_range(db, project, manager, 40, 80)  # 240 labels in all
    with db.transaction() as session:
        labelled = session.scalars(
            select(Item.id).where(Item.project_id == project, Item.external_id.like("l-%"))
        ).all()
        audited = sorted(labelled)[::2]  # 120 drawn by the random audit
        seeds = sorted(labelled)[1:7:2]  # 3 labelled by hand (no prediction), 117 by margin
        for item_id in sorted(set(labelled) - set(seeds)):
            session.add(
                Prediction(
                    item_id=item_id, project_id=project, label="call", probabilities={},
                    confidence=0.5, resolution="human", batch=1,
                    strategy=AUDIT if item_id in audited else "margin",
                )
            )  # fmt: skip
    with db.transaction(readonly=True) as session:
        data = training.training_set(session, project, text_field="text")
    assert [i for i, flag in zip(data.item_ids, data.audit, strict=True) if flag] == audited
    # Seed items (no prediction) are control items but not audit items.
    assert sum(data.control) == len(audited) + len(seeds)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project, store=ModelStore(tmp_path))
    assert isinstance(first.model, EmbeddingModel)
    assert first.model.calibrated_on == "audit"
    cut = first.model.out_of_scope_threshold
    assert cut is not None
    assert first.record.metrics["oos_rule"] == f"model: -max logit > {cut:.2f} (set on audit items)"
    # The kept champion says the same after a restart.
    cache = ChampionCache(ModelStore(tmp_path))
    with db.transaction(readonly=True) as session:
        served = predict(session, manager.actor, project, [*IN_SCOPE, FOREIGN], cache=cache)
    assert served.labels == ["call", "music", "navigate", "out_of_scope"]


def test_a_champion_that_calls_everything_out_of_scope_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the guard on out-of-scope recall kept such a champion (recall 1) for
    ever; the loop now guards out-of-scope F1."""
    monkeypatch.setattr("loupe.learning.embeddings.packaged_encoder", lambda: hashed_trigrams)
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"}, config=WITH_OOS)
    # Calibrated probabilities from 9 labels are all below 0.99: everything is flagged.
    configure(db, project, trainer="embeddings", oos_threshold=0.99)
    add_gold(db, project)
    foreign = [FOREIGN, "purple monkey dishwasher", "quantum flux capacitor", "play ring book"]
    records = [
        parse_item({"id": f"g-foreign-{i}", "text": t}, where="t", text_field="text")
        for i, t in enumerate(foreign)
    ]
    with db.transaction() as session:
        items.insert_items(session, Actor.system(), project, records)
        gold.set_gold(
            session, Actor.system(), project,
            [(f"g-foreign-{i}", "out_of_scope") for i in range(len(foreign))],
        )  # fmt: skip
    label_range(db, project, manager, 0, 3)
    with db.transaction() as session:
        first = retrain(session, manager.actor, project)
    assert first.record.metrics["oos_recall"] == 1.0, first.record.metrics
    assert first.record.metrics["in_scope_accuracy"] == 0.0, first.record.metrics
    configure(db, project, trainer="embeddings", oos_threshold=0.5)
    label_range(db, project, manager, 3, 9)
    with db.transaction() as session:
        second = retrain(session, manager.actor, project)
    assert second.record.metrics["oos_recall"] < 0.95
    assert second.decision.promote, second.decision.reason
