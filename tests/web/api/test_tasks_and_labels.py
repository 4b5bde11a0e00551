from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import add_items, hold, make_project, make_user, snapshot

from loupe.db.database import Database


def _setup(db: Database, overlap: int = 1) -> tuple[int, object]:
    annotator = make_user(db, "ann")
    project = make_project(db, overlap=overlap, members={annotator: "annotator"})
    add_items(db, project, 2)
    return project, annotator


def test_label_loop(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, 1)
    task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers)
    assert task.status_code == 200
    body = task.json()["task"]
    assert body["external_id"] == "u0"
    assert body["data"] == {"text": "utterance 0"}
    assert body["config_version"] == 1
    url = f"/api/v1/projects/{project}/items/{body['item_id']}/labels"
    created = app_client.post(
        url, json={"answer": "call", "lead_time_ms": 900}, headers=annotator.headers
    )
    assert created.status_code == 201
    label = created.json()
    assert label["answer"] == "call"
    assert label["user_id"] == annotator.id
    assert label["lead_time_ms"] == 900
    again = app_client.post(url, json={"answer": "call"}, headers=annotator.headers)
    assert again.status_code == 200
    assert again.json()["id"] == label["id"]
    before = snapshot(db)
    changed = app_client.post(url, json={"answer": "music"}, headers=annotator.headers)
    assert changed.status_code == 409
    assert snapshot(db) == before
    done = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers)
    assert done.json() == {"task": None}


def test_submit_validates_against_schema(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, 1)
    url = f"/api/v1/projects/{project}/items/1/labels"
    before = snapshot(db)
    response = app_client.post(url, json={"answer": "dance"}, headers=annotator.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"] == {"field": "answer", "allowed": ["call", "music", "navigate"]}
    assert "call, music, navigate" in error["message"]
    assert app_client.post(url, json={}, headers=annotator.headers).status_code == 422
    assert (
        app_client.post(url, json={"answer": ["call"]}, headers=annotator.headers).status_code
        == 422
    )
    negative = app_client.post(
        url, json={"answer": "call", "lead_time_ms": -1}, headers=annotator.headers
    )
    assert negative.status_code == 422
    assert (
        app_client.post(
            url, content=b"{", headers={**annotator.headers, "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert snapshot(db) == before


def test_task_endpoints_need_membership(app_client: TestClient, db: Database) -> None:
    annotator, stranger = make_user(db, "ann"), make_user(db, "stranger")
    auditor = make_user(db, "aud", "auditor")
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, 1)
    before = snapshot(db)
    next_url = f"/api/v1/projects/{project}/tasks/next"
    label_url = f"/api/v1/projects/{project}/items/1/labels"
    assert app_client.post(next_url).status_code == 401
    refused = app_client.post(next_url, headers=stranger.headers)
    assert refused.status_code == 403
    # It said "annotators may not work on tasks", which this project's annotators do:
    # what the stranger lacks is membership.
    assert refused.json()["error"]["message"] == (
        "annotators who are not members of this project may not work on tasks; "
        "ask a project manager to add you to it"
    )
    assert app_client.post(next_url, headers=auditor.headers).status_code == 403
    assert app_client.post(label_url, json={"answer": "call"}).status_code == 401
    assert (
        app_client.post(label_url, json={"answer": "call"}, headers=stranger.headers).status_code
        == 403
    )
    assert (
        app_client.post(
            f"/api/v1/projects/{project}/items/99/labels",
            json={"answer": "call"},
            headers=annotator.headers,
        ).status_code
        == 404
    )
    assert (
        app_client.post("/api/v1/projects/99/tasks/next", headers=annotator.headers).status_code
        == 404
    )
    assert snapshot(db) == before


def test_skip(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, 2)
    first = app_client.post(
        f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers
    ).json()["task"]
    skip = app_client.post(
        f"/api/v1/projects/{project}/tasks/{first['item_id']}/skip", headers=annotator.headers
    )
    assert skip.status_code == 204
    second = app_client.post(
        f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers
    ).json()["task"]
    assert second["item_id"] != first["item_id"]
    missing = app_client.post(
        f"/api/v1/projects/{project}/tasks/999/skip", headers=annotator.headers
    )
    assert missing.status_code == 404


def test_overlap_full_is_a_conflict(app_client: TestClient, db: Database) -> None:
    a, b = make_user(db, "a"), make_user(db, "b")
    project = make_project(db, members={a: "annotator", b: "annotator"})
    add_items(db, project, 1)
    url = f"/api/v1/projects/{project}/items/1/labels"
    hold(db, a, project, 1)
    hold(db, b, project, 1)  # even someone served the item earlier
    assert app_client.post(url, json={"answer": "call"}, headers=a.headers).status_code == 201
    before = snapshot(db)
    response = app_client.post(url, json={"answer": "call"}, headers=b.headers)
    assert response.status_code == 409
    assert "already has the 1 label" in response.json()["error"]["message"]
    assert snapshot(db) == before


def test_labels_listing_for_reviewers(app_client: TestClient, db: Database) -> None:
    a, reviewer = make_user(db, "a"), make_user(db, "rev", "reviewer")
    project = make_project(db, members={a: "annotator", reviewer: "reviewer"})
    add_items(db, project, 1)
    hold(db, a, project, 1)
    app_client.post(
        f"/api/v1/projects/{project}/items/1/labels", json={"answer": "call"}, headers=a.headers
    )
    page = app_client.get(f"/api/v1/projects/{project}/labels", headers=reviewer.headers)
    assert page.status_code == 200
    assert [label["answer"] for label in page.json()["items"]] == ["call"]
    assert (
        app_client.get(f"/api/v1/projects/{project}/labels", headers=a.headers).status_code == 403
    )
