from __future__ import annotations

import random

import pytest
from tests.factories import add_items, every_row, make_project, make_user

from loupe.db.database import Database
from loupe.errors import NotFound, PermissionDenied
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.projects.definition import resume_member
from loupe.services.quality.agreement import quality_report
from loupe.services.quality.gold import set_gold, wilson_interval


def test_wilson_interval_known_answers() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(8, 10)
    assert round(low, 3) == 0.49
    assert round(high, 3) == 0.943
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert 0.69 < low < 0.73


def test_set_gold_needs_existing_items_and_valid_answers(db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 2)
    with db.transaction() as session:
        assert set_gold(session, Actor.system(), project, [("u0", "call")]) == 1
    with db.transaction() as session, pytest.raises(NotFound):
        set_gold(session, Actor.system(), project, [("nope", "call")])


def _policy_project(db: Database, people: list, quality_policy: dict, overlap: int = 3) -> int:  # type: ignore[type-arg]
    config = {
        "task": {"type": "single_choice", "labels": [{"key": "call"}, {"key": "music"}]},
        "quality": quality_policy,
    }
    return make_project(
        db, overlap=overlap, members=dict.fromkeys(people, "annotator"), config=config
    )


def test_gold_tasks_are_mixed_in_scored_and_pause_the_careless(db: Database) -> None:
    careless = make_user(db, "careless")
    project = _policy_project(
        db,
        [careless],
        {"gold_rate": 0.5, "min_gold_accuracy": 0.8, "min_gold_answered": 4, "gold_feedback": True},
    )
    add_items(db, project, 50)
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [(f"u{i}", "call") for i in range(6)])
    seen_gold, paused = 0, False
    # Gold comes at random (rate 0.5): 40 tasks make fewer than 4 gold ones vanishingly rare.
    for _ in range(40):
        try:
            with db.transaction() as session:
                task = next_task(session, careless.actor, project, lease_seconds=60)
                if task is None:
                    break
                result = submit_label(session, careless.actor, project, task.item_id, "music")
        except PermissionDenied as exc:
            assert "paused" in exc.message
            assert "gold accuracy 0/" in exc.message
            paused = True
            break
        if result.gold is not None:
            seen_gold += 1
            assert result.gold.correct is False
            assert result.gold.expected == "call"
    assert seen_gold >= 4
    assert paused
    with db.transaction(readonly=True) as session:
        report = quality_report(session, Actor.system(), project)
    [stat] = report.gold
    assert stat.correct == 0
    assert stat.paused_reason is not None
    with db.transaction() as session:
        resume_member(session, Actor.system(), project, careless.id)
    with db.transaction() as session:
        next_task(session, careless.actor, project, lease_seconds=60)


def test_a_free_text_gold_answer_passes_the_gate_before_anyone_reads_it(db: Database) -> None:
    # A translation's known answer repeats the item's personal data; annotators are shown
    # it as gold feedback (and reviewers beside the label), so it is gated like the item.
    annotator = make_user(db, "ann")
    config = {
        "task": {"type": "free_text", "mode": "translation"},
        "quality": {"gold_rate": 0.5, "gold_feedback": True},
    }
    project = make_project(db, members={annotator: "annotator"}, config=config)
    add_items(db, project, 1)
    said = "Llama a Ana Ruiz al +44 20 7946 0958"
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", said)])
    with db.transaction() as session:
        always = random.Random(0)
        always.random = lambda: 0.0  # type: ignore[method-assign]  # the draw says gold
        task = next_task(session, annotator.actor, project, lease_seconds=60, rng=always)
        assert task is not None
        result = submit_label(session, annotator.actor, project, task.item_id, said)
    assert result.gold is not None
    assert result.gold.expected == "Llama a [PERSON] al [PHONE]"
    assert result.gold.correct  # the same words, gated alike
    stored = every_row(db)
    assert "Ruiz" not in stored
    assert "7946" not in stored
