"""Pairwise items name their systems in metadata or data (issue #15): the ranking reads
either (a flat JSONL row puts ``a_model``/``b_model`` among the data fields, and was
silently skipped before), and every task payload drops them."""

from __future__ import annotations

from typing import Any

import pytest
from tests.factories import add_rows, make_project, make_user

from loupe.db.database import Database
from loupe.label_schema import LabelSchema
from loupe.services.labelling import (
    escalation_queue,
    escalations,
    labels,
    pairwise,
    preferences,
    tasks,
)

CONFIG: dict[str, Any] = {"task": {"type": "pairwise"}}


def _rows(where: str, n: int, a: str, b: str, *, start: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + n):
        row: dict[str, Any] = {"id": f"{where}{i}", "text": f"prompt {i}", "a": "x", "b": "y"}
        names = {"a_model": a, "b_model": b}
        if where == "meta":
            row["metadata"] = names
        elif where == "data":
            row.update(names)
        rows.append(row)
    return rows


def test_the_ranking_reads_system_names_from_data_fields_as_from_metadata(db: Database) -> None:
    mgr, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, config=CONFIG, members={mgr: "manager", ann: "annotator"})
    # v2 wins every comparison: three items name the systems in metadata, three in data,
    # and one names none (it counts as skipped, and says so).
    rows = _rows("meta", 3, "v2", "v1") + _rows("data", 3, "v1", "v2") + _rows("none", 1, "", "")
    add_rows(db, project, rows)
    answers = {"meta": "a", "data": "b", "none": "a"}  # A is v2 in metadata rows, B in data
    while True:
        with db.transaction() as session:
            task = tasks.next_task(session, ann.actor, project, lease_seconds=60)
            if task is None:
                break
            labels.submit_label(
                session, ann.actor, project, task.item_id, answers[task.external_id[:4]]
            )
    with db.transaction(readonly=True) as session:
        ranking = preferences.preference_ranking(session, mgr.actor, project)
    assert [s.name for s in ranking.systems] == ["v2", "v1"]
    assert ranking.n_comparisons == 6  # before: 3, the data-field rows silently skipped
    assert ranking.n_skipped == 1
    assert ranking.systems[0].wins == 6.0 and ranking.systems[0].comparisons == 6.0


def test_metadata_wins_over_data_and_a_half_named_pair_is_skipped() -> None:
    assert pairwise.systems({"a_model": "d1", "b_model": "d2"}, {"a_model": "m1", "b_model": "m2"}) == ("m1", "m2")  # fmt: skip
    assert pairwise.systems({"a_model": "d1", "b_model": "d2"}, {"a_model": "m1"}) == ("d1", "d2")
    assert pairwise.systems({"a_model": "d1"}, {"b_model": "m2"}) is None
    assert pairwise.systems({"a_model": "same", "b_model": "same"}, None) is None
    assert pairwise.systems({"a_model": 1, "b_model": 2}, {}) is None


@pytest.mark.parametrize("task_type", ["pairwise", "single_choice"])
def test_blind_drops_system_names_only_for_pairwise_and_never_changes_its_input(
    task_type: str,
) -> None:
    task: dict[str, Any] = {"type": task_type}
    if task_type == "single_choice":
        task["labels"] = [{"key": "x"}, {"key": "y"}]
    schema = LabelSchema.model_validate({"task": task})
    data = {"text": "t", "a_model": "p", "b_model": "q"}
    shown = pairwise.blind(schema, data)
    assert data == {"text": "t", "a_model": "p", "b_model": "q"}
    assert shown == ({"text": "t"} if task_type == "pairwise" else data)
    assert pairwise.blind(schema, shown) == shown  # idempotent


def test_staff_labelling_and_adjudicating_see_the_pair_blind(db: Database) -> None:
    mgr, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, config=CONFIG, members={mgr: "manager", ann: "annotator"})
    add_rows(db, project, _rows("data", 2, "v1", "v2"))
    with db.transaction() as session:
        first = tasks.next_task(session, ann.actor, project, lease_seconds=60)
        assert first is not None and "a_model" not in first.data
        escalations.flag_item(session, ann.actor, project, first.item_id, reason="unsure")
    with db.transaction() as session:
        adjudication = escalation_queue.next_adjudication(
            session, mgr.actor, project, item_id=first.item_id
        )
        assert adjudication is not None
        assert adjudication.data == {"text": "prompt 0", "a": "x", "b": "y"}
        taken = tasks.take_item(session, mgr.actor, project, first.item_id + 1, lease_seconds=60)
        assert taken.data == {"text": "prompt 1", "a": "x", "b": "y"}
