from __future__ import annotations

import pytest
from tests.factories import add_items, hold_in, make_project, make_user

from loupe.db.database import Database
from loupe.errors import NotFound
from loupe.services import quality
from loupe.services.access import Actor
from loupe.services.labels import submit_label


def test_wilson_interval_known_answers() -> None:
    assert quality.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = quality.wilson_interval(8, 10)
    assert round(low, 3) == 0.49
    assert round(high, 3) == 0.943
    low, high = quality.wilson_interval(10, 10)
    assert high == 1.0
    assert 0.69 < low < 0.73


def test_refit_learns_who_is_reliable_and_report_shows_agreement(db: Database) -> None:
    good = [make_user(db, f"good{i}") for i in range(3)]
    bad = make_user(db, "bad")
    people = [*good, bad]
    project = make_project(db, overlap=4, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 12)
    truth = ["call", "music", "navigate"]
    with db.transaction() as session:
        for item in range(1, 13):
            right = truth[item % 3]
            wrong = truth[(item + 1) % 3]
            for person in good:
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, right)
            hold_in(session, bad.id, project, item)
            submit_label(session, bad.actor, project, item, wrong)
    with db.transaction() as session:
        report = quality.refit(session, project)
    assert report.n_labels == 48
    assert report.n_workers == 4
    with db.transaction(readonly=True) as session:
        result = quality.quality_report(session, Actor.system(), project)
    assert result.skills[bad.id] < 0.4 < 0.7 < min(result.skills[p.id] for p in good)
    assert result.n_items_labelled == 12
    assert result.krippendorff_alpha is not None
    assert 0.2 < result.krippendorff_alpha < 0.8
    assert len(result.pairwise) == 6
    assert set(result.fleiss_kappa_per_label) == {"call", "music", "navigate"}


def test_set_gold_needs_existing_items_and_valid_answers(db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 2)
    with db.transaction() as session:
        assert quality.set_gold(session, Actor.system(), project, [("u0", "call")]) == 1
    with db.transaction() as session, pytest.raises(NotFound):
        quality.set_gold(session, Actor.system(), project, [("nope", "call")])


def _policy_project(db: Database, people: list, quality_policy: dict, overlap: int = 3) -> int:  # type: ignore[type-arg]
    config = {
        "task": {"type": "single_choice", "labels": [{"key": "call"}, {"key": "music"}]},
        "quality": quality_policy,
    }
    return make_project(
        db, overlap=overlap, members=dict.fromkeys(people, "annotator"), config=config
    )


def test_gold_tasks_are_mixed_in_scored_and_pause_the_careless(db: Database) -> None:
    from loupe.errors import PermissionDenied
    from loupe.services.tasks import next_task

    careless = make_user(db, "careless")
    project = _policy_project(
        db,
        [careless],
        {"gold_rate": 0.5, "min_gold_accuracy": 0.8, "min_gold_answered": 4, "gold_feedback": True},
    )
    add_items(db, project, 50)
    with db.transaction() as session:
        quality.set_gold(session, Actor.system(), project, [(f"u{i}", "call") for i in range(6)])
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
        report = quality.quality_report(session, Actor.system(), project)
    [stat] = report.gold
    assert stat.correct == 0
    assert stat.paused_reason is not None
    with db.transaction() as session:
        quality.resume_member(session, Actor.system(), project, careless.id)
    with db.transaction() as session:
        next_task(session, careless.actor, project, lease_seconds=60)


def test_dynamic_overlap_stops_confident_items_and_escalates_split_ones(db: Database) -> None:
    from sqlalchemy import text

    people = [make_user(db, f"p{i}") for i in range(4)]
    project = _policy_project(
        db,
        people,
        {"dynamic_overlap": True, "target": 0.9, "min_labels": 2},
        overlap=4,
    )
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
