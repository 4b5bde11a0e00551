"""Gold items are indistinguishable from ordinary ones until they are answered.

An annotator who could tell a gold item (a check with a known answer) from an ordinary
one could be careful only on gold. Each test serves one ordinary and one gold item to
the same annotator through the workspace and the API, and compares everything the
annotator receives before the answer is judged — the workspace page, the task JSON of
``POST /work/next`` and ``POST /tasks/next`` and the submit response — after replacing
what differs between any two items (ids, text, timestamps, the suggested label).
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import Person, make_project, make_user
from tests.loop_helpers import WORDS, add_gold, configure, prediction
from tests.web.ui.signin import sign_in

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.services.access import Actor
from loupe.services.labelling import tasks, workspace
from loupe.services.model_loop.predictions import ingest_predictions


class _Fixed(random.Random):
    """Draws ``value`` for "is the next task gold?" (0.0: gold; 0.99: ordinary)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def _project(db: Database, maya: Person, *, feedback: bool) -> int:
    config = {
        "task": {"type": "single_choice", "labels": [{"key": k} for k in WORDS]},
        "quality": {"gold_rate": 0.5, "gold_feedback": feedback},
    }
    project = make_project(db, config=config, members={maya: "annotator"})
    configure(db, project, audit_share=0.0, label_share=1.0)
    add_gold(db, project, n_per_label=1)
    with db.transaction() as session:  # the deployed model's traffic: all to people
        ingest_predictions(session, Actor.system(), project, [prediction(i) for i in range(4)])
    return project


def _normalise(value: Any, volatile: frozenset[str]) -> Any:
    """``value`` with what differs between any two items replaced by its type."""
    if isinstance(value, dict):
        return {
            key: type(item).__name__ if key in volatile else _normalise(item, volatile)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_normalise(item, volatile) for item in value]
    return value


TASK_VOLATILE = frozenset(
    {"item_id", "external_id", "ref", "text", "lease_expires_at", "label", "score"}
)
SUBMIT_VOLATILE = frozenset({"id", "item_id", "created_at"})


def _serve(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    project: int,
    csrf: str,
    *,
    gold: bool,
) -> dict[str, Any]:
    """Everything the annotator gets for one item, up to and including the submit."""
    monkeypatch.setattr(tasks, "_rng", _Fixed(0.0 if gold else 0.99))
    headers = {"X-CSRF-Token": csrf}
    found = client.post(f"/projects/{project}/work/next", headers=headers)
    api = client.post(f"/api/v1/projects/{project}/tasks/next", headers=headers)
    page = client.get(f"/projects/{project}/work")
    task = found.json()["task"]
    saved = client.post(
        f"/api/v1/projects/{project}/items/{task['item_id']}/labels",
        json={"answer": "navigate", "lead_time_ms": 1200},
        headers=headers,
    )
    return {
        "status": (found.status_code, api.status_code, page.status_code, saved.status_code),
        "work_next": found.json(),
        "tasks_next": api.json(),
        "page": page.text,
        "submit": saved.json(),
    }


def _page(html: str) -> str:
    """The workspace page without today's tally (one more label by the second item)."""
    return re.sub(r'id="tally-labels">\d+</strong> labels?', 'id="tally-labels">N</strong>', html)


def _is_gold(db: Database, item_id: int) -> bool:
    with db.transaction(readonly=True) as session:
        return bool(session.scalar(select(Item.is_gold).where(Item.id == item_id)))


@pytest.mark.parametrize("feedback", [False, True])
def test_gold_and_ordinary_items_look_the_same_before_the_answer(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch, feedback: bool
) -> None:
    maya = make_user(db, "maya")
    project = _project(db, maya, feedback=feedback)
    csrf = sign_in(app_client, db, maya)
    ordinary = _serve(app_client, monkeypatch, project, csrf, gold=False)
    gold = _serve(app_client, monkeypatch, project, csrf, gold=True)
    assert not _is_gold(db, ordinary["work_next"]["task"]["item_id"])
    assert _is_gold(db, gold["work_next"]["task"]["item_id"])

    assert gold["status"] == ordinary["status"] == (200, 200, 200, 201)
    assert _page(gold["page"]) == _page(ordinary["page"])
    # Both carry the model's suggestion, with the same keys and kinds of value.
    assert gold["work_next"]["prediction"] is not None
    for key in ("work_next", "tasks_next"):
        assert _normalise(gold[key], TASK_VOLATILE) == _normalise(ordinary[key], TASK_VOLATILE)
    assert gold["tasks_next"]["task"]["item_id"] == gold["work_next"]["task"]["item_id"]

    told = _normalise(gold["submit"], SUBMIT_VOLATILE)
    plain = _normalise(ordinary["submit"], SUBMIT_VOLATILE)
    if feedback:  # the feedback is due with the answer: that, and only that, differs
        assert told.pop("gold") == {"correct": False, "expected": "call", "paused": False}
        assert plain.pop("gold") is None
    assert told == plain


def session_meta_of_an_ordinary_item(db: Database, project: int) -> dict[str, Any]:
    with db.transaction(readonly=True) as session:
        metas = session.scalars(
            select(Item.meta).where(Item.project_id == project, Item.is_gold.is_(False))
        ).all()
    return next(m for m in metas if isinstance(m, dict) and "prediction" in m)


def test_a_gold_items_drawn_suggestion_is_stored_once_and_served_to_all(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bea = make_user(db, "ann"), make_user(db, "bea")
    project = _project(db, ann, feedback=True)
    with db.transaction() as session:
        from loupe.services.projects import definition

        definition.add_member(session, Actor.system(), project, user_id=bea.id, role="annotator")
    monkeypatch.setattr(tasks, "_rng", _Fixed(0.0))  # gold comes next for everyone
    seen = []
    for person, seed in ((ann, 1), (bea, 2), (ann, 3)):  # ann asks again: the same item
        with db.transaction() as session:
            found = workspace.next_for_workspace(
                session, person.actor, project, lease_seconds=60, rng=random.Random(seed)
            )
            assert found is not None
            seen.append((found.task.item_id, found.prediction))
    with db.transaction(readonly=True) as session:
        meta = session.scalar(select(Item.meta).where(Item.id == seen[0][0]))
    # Stored like the model's own suggestions (label, confidence, model version) with no
    # marker: project reviewers list the metadata of items routed to them.
    ordinary = session_meta_of_an_ordinary_item(db, project)
    assert meta is not None
    assert set(meta["prediction"]) == set(ordinary["prediction"])
    assert len(set(seen)) == 1  # one item, one suggestion, whoever asks and however often
    assert _is_gold(db, seen[0][0]) and seen[0][1] is not None
    assert seen[0][1].label == meta["prediction"]["label"] and seen[0][1].score == 0.8


def test_drawn_suggestions_follow_the_models_record(db: Database) -> None:
    """Where people settled the model's suggestions as right, a drawn one is right."""
    from loupe.db.raw import Raw

    project = make_project(db)
    configure(db, project, audit_share=0.0, label_share=1.0)
    with db.transaction() as session:
        ingest_predictions(session, Actor.system(), project, [prediction(i) for i in range(3)])
    with db.transaction() as session:
        raw = Raw(session)
        unsettled = {
            workspace.draw_gold_prediction(
                raw, project, expected="music", labels=list(WORDS), rng=random.Random(seed)
            )
            for seed in range(40)
        }
    labels = {p.label for p in unsettled if p is not None}
    # Unsettled: a calibrated draw, right with the model's confidence (0.8), else wrong.
    assert "music" in labels and labels - {"music"}
    assert {p.score for p in unsettled if p is not None} == {0.8}
    empty = make_project(db, name="empty")
    with db.transaction() as session:
        assert workspace.draw_gold_prediction(
            Raw(session), empty, expected="music", labels=list(WORDS), rng=random.Random(0)
        ) is None  # fmt: skip


def test_gold_imported_first_is_not_told_apart_by_when_it_is_served_or_how_it_is_named(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue #15): item ids follow import order, so gold imported first has
    the lowest ids, and the workspace named each item by its id (``#12``): among items
    served in id order, the gold ones stood out as the low, out-of-sequence numbers."""
    from tests.factories import add_items

    from loupe.web.ui import workspace as workspace_ui

    maya = make_user(db, "maya")
    config = {
        "task": {"type": "single_choice", "labels": [{"key": k} for k in WORDS]},
        "quality": {"gold_rate": 0.25},
    }
    project = make_project(db, config=config, members={maya: "annotator"})
    add_gold(db, project, n_per_label=1)  # the first three ids
    add_items(db, project, 30)
    monkeypatch.setattr(tasks, "_rng", random.Random(7))
    monkeypatch.setattr(workspace_ui, "_ref_key", lambda ctx: b"a fixed key for the test")
    csrf = sign_in(app_client, db, maya)
    served: list[tuple[str, int, bool]] = []  # (what the page names it, item id, gold)
    while True:
        task = app_client.post(
            f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf}
        ).json()["task"]
        if task is None:
            break
        served.append((task["ref"], task["item_id"], _is_gold(db, task["item_id"])))
        saved = app_client.post(
            f"/api/v1/projects/{project}/items/{task['item_id']}/labels",
            json={"answer": "call"},
            headers={"X-CSRF-Token": csrf},
        )
        assert saved.status_code == 201
    gold = [n for n, (_, _, is_gold) in enumerate(served) if is_gold]
    assert len(served) == 33 and len(gold) == 3
    # Served: gold comes at drawn positions, not first although its ids are the lowest.
    assert gold != [0, 1, 2]
    # Named: the ref is no id, and neither its order nor its sequence points at gold.
    refs = [ref for ref, _, _ in served]
    assert all(ref != f"#{item_id}" for ref, item_id, _ in served)
    assert len(set(refs)) == len(refs)
    by_ref = sorted(range(len(served)), key=lambda n: refs[n])
    ranks = sorted(by_ref.index(n) for n in gold)
    assert ranks not in ([0, 1, 2], [30, 31, 32])  # the ids' ranks: always [0, 1, 2]
    dips = [n for n in range(1, len(refs)) if refs[n] < refs[n - 1]]  # "out of sequence"
    assert dips != gold  # by id, exactly the gold items dip below their predecessor
    # The same item keeps its name whoever is served it and however often.
    again = tasks.item_ref(b"a fixed key for the test", project, served[0][1])
    assert again == refs[0]
