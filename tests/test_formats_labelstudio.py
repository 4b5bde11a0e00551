"""Label Studio's JSON both ways: the pure conversion, and `loupe import/export` round trips.

The files here follow Label Studio's documented task format (labelstud.io/guide/task_format):
a list of tasks with ``data``, ``annotations`` (``result`` items with ``from_name``,
``to_name``, ``type`` and ``value``) and ``predictions`` (``model_version``, ``score``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.cli_run import run
from tests.factories import count, hold, make_project, make_user

from loupe.db.database import Database
from loupe.errors import InvalidInput, PermissionDenied
from loupe.formats import parse_item
from loupe.formats_labelstudio import (
    CONSENSUS_MODEL,
    answer_from_result,
    export_task,
    result_from_answer,
    task_rows,
)
from loupe.label_schema import LabelSchema
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.projects import definition
from loupe.services.projects.imports import import_labelstudio

CHOICES = {"type": "single_choice", "labels": [{"key": "call"}, {"key": "music"}]}
MULTI = {"type": "multi_choice", "labels": [{"key": "a"}, {"key": "b"}, {"key": "c"}]}
SPANS = {"type": "spans", "labels": [{"key": "PER"}, {"key": "LOC"}]}
TEXT = {"type": "free_text"}
PAIRWISE = {"type": "pairwise"}


def schema(task: dict[str, Any]) -> LabelSchema:
    return LabelSchema.model_validate({"task": task})


def result(kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": "label", "to_name": "text", "type": kind, "value": value}


CASES = [
    (CHOICES, "Bo calls", [result("choices", {"choices": ["call"]})], "call"),
    (MULTI, "x", [result("choices", {"choices": ["c", "a"]})], ["a", "c"]),
    (
        SPANS,
        "Bo lives in Paris",
        [
            result("labels", {"start": 12, "end": 17, "text": "Paris", "labels": ["LOC"]}),
            result("labels", {"start": 0, "end": 2, "text": "Bo", "labels": ["PER"]}),
        ],
        [{"start": 0, "end": 2, "label": "PER"}, {"start": 12, "end": 17, "label": "LOC"}],
    ),
    (TEXT, "Hallo", [result("textarea", {"text": ["Hello"]})], "Hello"),
    (PAIRWISE, "p", [result("choices", {"choices": ["tie"]})], "tie"),
]


@pytest.mark.parametrize(("task", "text", "ls_result", "answer"), CASES)
def test_each_task_type_converts_both_ways(
    task: dict[str, Any], text: str, ls_result: list[Any], answer: Any
) -> None:
    project = schema(task)
    assert answer_from_result(project, ls_result, text=text, where="t") == answer
    back = result_from_answer(project, answer, text=text)
    assert answer_from_result(project, back, text=text, where="t") == answer
    assert {r["type"] for r in back} == {r["type"] for r in ls_result}


def test_pairwise_reads_label_studios_pairwise_result() -> None:
    selected = [result("pairwise", {"selected": "right"})]
    assert answer_from_result(schema(PAIRWISE), selected, text=None, where="t") == "b"


def test_span_offsets_in_javascript_units_are_read_as_code_points() -> None:
    # Label Studio counts UTF-16 units: the emoji is 2 of them, 1 code point for Loupe.
    text = "\U0001f600 Bo"
    spans = [result("labels", {"start": 3, "end": 5, "text": "Bo", "labels": ["PER"]})]
    answer = answer_from_result(schema(SPANS), spans, text=text, where="t")
    assert answer == [{"start": 2, "end": 4, "label": "PER"}]
    wrong = [result("labels", {"start": 0, "end": 2, "text": "Paris", "labels": ["LOC"]})]
    with pytest.raises(InvalidInput, match=r"t: span \[0, 2\) does not mark 'Paris'"):
        answer_from_result(schema(SPANS), wrong, text=text, where="t")


def test_annotations_become_pre_labels_and_cancelled_ones_are_dropped() -> None:
    tasks = [
        {
            "id": 7,
            "data": {"text": "play jazz"},
            "annotations": [
                {"completed_by": 3, "was_cancelled": True, "result": []},
                {"completed_by": {"id": 4, "email": "x@y.z"}, "result": [CASES[0][2][0]]},
            ],
            "predictions": [
                {"model_version": "m1", "score": 0.6, "result": [CASES[0][2][0]]},
            ],
        },
        {
            "data": {"text": "ring mum", "id": "ext-2"},
            "predictions": [
                {"model_version": "m1", "score": 0.2, "result": [CASES[0][2][0]]},
                {
                    "model_version": "m2",
                    "score": 0.9,
                    "result": [result("choices", {"choices": ["music"]})],
                },
            ],
        },
    ]
    rows = [row for _, row in task_rows(tasks, schema(CHOICES))]
    first = parse_item(rows[0], where="t", text_field="text")
    assert first.external_id == "7"
    assert first.meta["prediction"] == {"label": "call", "source": "labelstudio"}
    assert first.meta["labelstudio"]["annotations"] == [
        {"answer": "call", "completed_by": 4, "created_at": None}
    ]
    second = parse_item(rows[1], where="t", text_field="text")
    assert second.external_id == "ext-2"
    assert second.meta["prediction"] == {"label": "music", "confidence": 0.9, "model_version": "m2"}


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ({"nope": 1}, "task 0: a task is an object with a 'data' object"),
        ("x", "a Label Studio export is a JSON list of tasks"),
        (
            [
                {
                    "data": {"text": "a"},
                    "annotations": [{"result": [result("choices", {"choices": ["x"]})]}],
                }
            ],
            "task 0: annotations\\[0\\]: answer: 'x' is not a label",
        ),
        (
            [
                {"data": {"text": "a"}},
                {"data": {"text": "b"}, "predictions": [{"result": "no"}]},
            ],
            "task 1: predictions\\[0\\]: result must be a list",
        ),
    ],
)
def test_bad_tasks_are_named(tasks: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        list(task_rows(tasks, schema(CHOICES)))


def test_export_task_carries_labels_prior_annotations_and_consensus() -> None:
    row = {
        "id": "u1",
        "item_id": 5,
        "language": "en",
        "domain": "general",
        "withheld": False,
        "data": '{"text":"play jazz"}',
        "metadata": json.dumps(
            {"labelstudio": {"annotations": [{"answer": "music", "completed_by": 4}]}}
        ),
        "labels": [{"annotator": 2, "answer": '"music"', "created_at": "2025-01-01T00:00:00"}],
        "answer": '"music"',
        "confidence": 0.8,
    }
    task = export_task(row, schema(CHOICES))
    assert task["id"] == 5
    assert task["data"] == {"text": "play jazz", "id": "u1", "language": "en"}
    assert [a["completed_by"] for a in task["annotations"]] == [4, 2]
    assert [a["result"][0]["value"] for a in task["annotations"]] == [{"choices": ["music"]}] * 2
    assert task["predictions"] == [
        {
            "model_version": CONSENSUS_MODEL,
            "score": 0.8,
            "result": [result("choices", {"choices": ["music"]})],
        }
    ]


# --- through the CLI, on both databases ------------------------------------------------


def _studio_export() -> list[dict[str, Any]]:
    choice = result("choices", {"choices": ["call"]})
    return [
        {
            "id": 1,
            "data": {"text": "call mum"},
            "annotations": [{"id": 11, "completed_by": 1, "result": [choice]}],
            "predictions": [],
        },
        {
            "id": 2,
            "data": {"text": "play jazz"},
            "annotations": [],
            "predictions": [
                {
                    "model_version": "m1",
                    "score": 0.7,
                    "result": [result("choices", {"choices": ["music"]})],
                }
            ],
        },
        {"id": 3, "data": {"text": "write to ann.lee@example.com"}, "annotations": []},
    ]


def _create(capsys: pytest.CaptureFixture[str], url: str, name: str) -> None:
    code, out, _ = run(
        capsys, "projects", "create", name, "--labels", "call,music", "--database-url", url
    )
    assert code == 0, out


def test_label_studio_round_trip_through_loupe(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path, db: Database
) -> None:
    url = database_url
    _create(capsys, url, "intents")
    source = tmp_path / "studio.json"
    source.write_text(json.dumps(_studio_export()), encoding="utf-8")
    code, out, _ = run(
        capsys, "import", "intents", str(source), "--format", "labelstudio", "--database-url", url
    )
    assert code == 0, out
    assert "3 new items" in out

    # A Loupe annotator labels the second item: it comes out as an annotation.
    ann = make_user(db, "ann")
    with db.transaction() as session:
        item_id = session.execute(text("SELECT id FROM items WHERE external_id = '2'")).scalar_one()
    with db.transaction() as session:
        definition.add_member(session, Actor.system(), 1, user_id=ann.id, role="annotator")
    hold(db, ann, 1, item_id)
    with db.transaction() as session:
        submit_label(session, ann.actor, 1, item_id, "music")

    target = tmp_path / "out.json"
    args = ["export", "intents", "--kind", "labelstudio", "-o", str(target)]
    code, out, _ = run(capsys, *args, "--database-url", url)
    assert code == 0, out
    tasks = json.loads(target.read_text(encoding="utf-8"))
    by_id = {task["data"]["id"]: task for task in tasks}
    assert set(by_id) == {"1", "2", "3"}
    assert by_id["1"]["data"]["text"] == "call mum"
    assert [a["result"][0]["value"] for a in by_id["1"]["annotations"]] == [{"choices": ["call"]}]
    assert by_id["1"]["annotations"][0]["completed_by"] == 1
    second = by_id["2"]
    assert [a["completed_by"] for a in second["annotations"]] == [ann.id]
    assert second["annotations"][0]["result"][0]["value"] == {"choices": ["music"]}
    versions = [p["model_version"] for p in second["predictions"]]
    assert versions[0] == "m1"
    assert CONSENSUS_MODEL in versions
    # Privacy: the export carries what the gate stored, never the address.
    assert "ann.lee@example.com" not in target.read_text(encoding="utf-8")

    # And back again: Loupe's export imports into a fresh project, annotations kept.
    _create(capsys, url, "copy")
    code, out, _ = run(
        capsys, "import", "copy", str(target), "--format", "labelstudio", "--database-url", url
    )
    assert code == 0, out
    assert "3 new items" in out
    again = tmp_path / "again.json"
    code, _, _ = run(
        capsys, "export", "copy", "--kind", "labelstudio", "-o", str(again), "--database-url", url
    )
    assert code == 0
    copied = {task["data"]["id"]: task for task in json.loads(again.read_text(encoding="utf-8"))}
    assert copied["1"]["annotations"][0]["result"] == by_id["1"]["annotations"][0]["result"]
    assert [a["completed_by"] for a in copied["2"]["annotations"]] == [ann.id]


def test_a_bad_task_imports_nothing(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path, db: Database
) -> None:
    _create(capsys, database_url, "intents")
    tasks = _studio_export()
    tasks[2]["annotations"] = [{"result": [result("choices", {"choices": ["dance"]})]}]
    source = tmp_path / "studio.json"
    source.write_text(json.dumps(tasks), encoding="utf-8")
    args = ["import", "intents", str(source), "--format", "labelstudio"]
    code, _, err = run(capsys, *args, "--database-url", database_url)
    assert code == 2
    assert "task 2: annotations[0]: answer: 'dance' is not a label" in err
    assert count(db, "items") == 0
    source.write_text("[{", encoding="utf-8")
    code, _, err = run(capsys, *args, "--database-url", database_url)
    assert code == 2
    assert "not valid JSON" in err
    assert count(db, "items") == 0


def test_export_needs_a_project_and_is_audited(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    code, _, err = run(
        capsys, "export", "nope", "--kind", "labelstudio", "--database-url", database_url
    )
    assert code == 5
    assert "nope" in err
    _create(capsys, database_url, "intents")
    code, out, _ = run(
        capsys, "export", "intents", "--kind", "labelstudio", "--database-url", database_url
    )
    assert code == 0
    assert json.loads(out) == []
    with db.transaction(readonly=True) as session:
        kinds = session.execute(
            text("SELECT details FROM audit_log WHERE action = 'export.run'")
        ).all()
    assert any("labelstudio" in str(row[0]) for row in kinds)


def test_import_goes_through_the_actor_check(db: Database, tmp_path: Path) -> None:
    """An annotator may not import: the Label Studio path authorises like every import."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    source = tmp_path / "s.json"
    source.write_text(json.dumps(_studio_export()), encoding="utf-8")
    with source.open(encoding="utf-8") as stream, pytest.raises(PermissionDenied):
        import_labelstudio(db, ann.actor, project, stream)
    assert count(db, "items") == 0
    with source.open(encoding="utf-8") as stream:
        result = import_labelstudio(db, Actor.system(), project, stream)
    assert result.created == 3
