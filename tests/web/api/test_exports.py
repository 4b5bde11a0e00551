from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from tests.factories import add_items, hold, make_project, make_user

from loupe.db.database import Database


def _labelled(app_client: TestClient, db: Database) -> tuple[int, dict[str, str]]:
    a, b = make_user(db, "a"), make_user(db, "b")
    manager = make_user(db, "mgr", "manager")
    project = make_project(
        db, overlap=2, members={a: "annotator", b: "annotator", manager: "manager"}
    )
    add_items(db, project, 3)
    for person, answer in [(a, "call"), (b, "call")]:
        hold(db, person, project, 1)
        app_client.post(
            f"/api/v1/projects/{project}/items/1/labels",
            json={"answer": answer},
            headers=person.headers,
        )
    hold(db, a, project, 2)
    app_client.post(
        f"/api/v1/projects/{project}/items/2/labels", json={"answer": "music"}, headers=a.headers
    )
    return project, manager.headers


def test_export_items_jsonl_with_labels_and_consensus(app_client: TestClient, db: Database) -> None:
    project, headers = _labelled(app_client, db)
    response = app_client.get(f"/api/v1/projects/{project}/export", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [row["id"] for row in rows] == ["u0", "u1", "u2"]
    assert rows[0]["answer"] == "call"
    assert rows[0]["support"] == 2
    assert rows[0]["confidence"] == 1.0
    assert [label["answer"] for label in rows[0]["labels"]] == ["call", "call"]
    assert rows[0]["distribution"] == {"call": 2}
    assert rows[0]["entropy"] == 0.0
    assert rows[2]["labels"] == []
    assert rows[2]["answer"] is None


def test_export_labels_and_consensus_csv(app_client: TestClient, db: Database) -> None:
    project, headers = _labelled(app_client, db)
    labels = app_client.get(
        f"/api/v1/projects/{project}/export?kind=labels&format=csv", headers=headers
    )
    table = list(csv.DictReader(io.StringIO(labels.text)))
    assert [(row["id"], row["answer"]) for row in table] == [
        ("u0", '"call"'),
        ("u0", '"call"'),
        ("u1", '"music"'),
    ] or [(row["id"], row["answer"]) for row in table] == [
        ("u0", "call"),
        ("u0", "call"),
        ("u1", "music"),
    ]
    consensus = app_client.get(f"/api/v1/projects/{project}/export?kind=consensus", headers=headers)
    rows = [json.loads(line) for line in consensus.text.splitlines()]
    assert [(row["id"], row["answer"], row["support"], row["method"]) for row in rows] == [
        ("u0", "call", 2, "mv"),
        ("u1", "music", 1, "mv"),
    ]


def test_export_errors(app_client: TestClient, db: Database) -> None:
    project, headers = _labelled(app_client, db)
    annotator = make_user(db, "c")
    assert app_client.get(f"/api/v1/projects/{project}/export").status_code == 401
    assert (
        app_client.get(f"/api/v1/projects/{project}/export", headers=annotator.headers).status_code
        == 403
    )
    bad = app_client.get(f"/api/v1/projects/{project}/export?kind=secrets", headers=headers)
    assert bad.status_code == 422
    assert (
        app_client.get(f"/api/v1/projects/{project}/export?format=xml", headers=headers).status_code
        == 422
    )


def test_export_keeps_disagreement_as_a_distribution(app_client: TestClient, db: Database) -> None:
    a, b = make_user(db, "a"), make_user(db, "b")
    manager = make_user(db, "mgr", "manager")
    project = make_project(
        db, overlap=2, members={a: "annotator", b: "annotator", manager: "manager"}
    )
    add_items(db, project, 1)
    for person, answer in [(a, "call"), (b, "music")]:
        hold(db, person, project, 1)
        app_client.post(
            f"/api/v1/projects/{project}/items/1/labels",
            json={"answer": answer},
            headers=person.headers,
        )
    [row] = [
        json.loads(line)
        for line in app_client.get(
            f"/api/v1/projects/{project}/export", headers=manager.headers
        ).text.splitlines()
    ]
    assert row["distribution"] == {"call": 1, "music": 1}
    assert row["entropy"] == 1.0


def test_csv_exports_neutralise_formula_injection(app_client: TestClient, db: Database) -> None:
    """Regression: an id typed as ``=cmd|...`` reached CSV cells as typed (a formula)."""
    from tests.factories import add_rows

    annotator = make_user(db, "ann")
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={annotator: "annotator", manager: "manager"})
    evil = "=cmd|' /C calc'!A0"
    add_rows(db, project, [{"id": evil, "text": "call mum"}, {"id": "-3.5", "text": "play"}])
    for _ in range(2):  # label both items, each through its lease
        task = app_client.post(
            f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers
        ).json()["task"]
        labelled = app_client.post(
            f"/api/v1/projects/{project}/items/{task['item_id']}/labels",
            json={"answer": "call"},
            headers=annotator.headers,
        )
        assert labelled.status_code in (200, 201), labelled.text
    for kind in ("items", "labels", "consensus"):
        response = app_client.get(
            f"/api/v1/projects/{project}/export?kind={kind}&format=csv", headers=manager.headers
        )
        assert response.status_code == 200, response.text
        table = list(csv.DictReader(io.StringIO(response.text)))
        ids = {row["id"] for row in table}
        assert "'" + evil in ids, (kind, ids)
        assert evil not in ids
        assert not any(cell[:1] in "=+@\t\r" for row in table for cell in row.values() if cell), (
            table
        )
    items = app_client.get(
        f"/api/v1/projects/{project}/export?kind=items&format=csv", headers=manager.headers
    )
    assert "-3.5" in {row["id"] for row in csv.DictReader(io.StringIO(items.text))}


def test_csv_answers_are_plain_text_in_every_export(app_client: TestClient, db: Database) -> None:
    """Regression (#19): consensus and items CSV wrote the answer ``call`` as ``"call"``
    (JSON) while the labels CSV wrote it plain."""
    project, headers = _labelled(app_client, db)
    answers: dict[str, list[str]] = {}
    for kind in ("items", "labels", "consensus"):
        response = app_client.get(
            f"/api/v1/projects/{project}/export?kind={kind}&format=csv", headers=headers
        )
        assert response.status_code == 200, response.text
        table = list(csv.DictReader(io.StringIO(response.text)))
        answers[kind] = [row["answer"] for row in table if row["answer"]]
    assert answers == {
        "items": ["call", "music"],
        "labels": ["call", "call", "music"],
        "consensus": ["call", "music"],
    }
