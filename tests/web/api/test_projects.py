from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import SCHEMA, make_project, make_user, snapshot

from loupe.db.database import Database

BODY = {"name": "glasses", "config": SCHEMA, "overlap": 3, "guidelines": "Pick the skill."}


def test_create_project_returns_it_and_makes_creator_manager(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    response = app_client.post("/api/v1/projects", json=BODY, headers=manager.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "glasses"
    assert body["overlap"] == 3
    assert body["config_version"] == 1
    assert body["config"]["task"]["labels"][0] == {"key": "call", "description": ""}
    members = app_client.get(f"/api/v1/projects/{body['id']}/members", headers=manager.headers)
    assert members.json() == [{"project_id": body["id"], "user_id": manager.id, "role": "manager"}]


def test_create_project_needs_a_token(app_client: TestClient, db: Database) -> None:
    before = snapshot(db)
    response = app_client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    bad = app_client.post("/api/v1/projects", json=BODY, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert snapshot(db) == before


def test_annotators_may_not_create_projects(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    before = snapshot(db)
    response = app_client.post("/api/v1/projects", json=BODY, headers=annotator.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert snapshot(db) == before


def test_invalid_schema_names_the_field(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    before = snapshot(db)
    bad = {**BODY, "config": {"task": {"type": "single_choice", "labels": [{"key": "a"}]}}}
    response = app_client.post("/api/v1/projects", json=bad, headers=admin.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "config.task.single_choice.labels" in error["message"]
    duplicate = {
        **BODY,
        "config": {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "a"}]}},
    }
    response = app_client.post("/api/v1/projects", json=duplicate, headers=admin.headers)
    assert response.status_code == 422
    assert "unique" in response.json()["error"]["message"]
    response = app_client.post(
        "/api/v1/projects", json={**BODY, "overlap": 0}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("overlap")
    assert snapshot(db) == before


def test_duplicate_name_conflicts(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    assert app_client.post("/api/v1/projects", json=BODY, headers=admin.headers).status_code == 201
    before = snapshot(db)
    response = app_client.post("/api/v1/projects", json=BODY, headers=admin.headers)
    assert response.status_code == 409
    assert snapshot(db) == before


def test_update_makes_a_new_config_version(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    response = app_client.patch(
        f"/api/v1/projects/{project}",
        json={"guidelines": "new", "overlap": 2},
        headers=manager.headers,
    )
    assert response.status_code == 200
    assert response.json()["config_version"] == 2
    assert response.json()["overlap"] == 2
    same = app_client.patch(
        f"/api/v1/projects/{project}", json={"overlap": 2}, headers=manager.headers
    )
    assert same.json()["config_version"] == 2


def test_only_managers_update_and_members_see(app_client: TestClient, db: Database) -> None:
    annotator, stranger = make_user(db, "ann"), make_user(db, "stranger")
    project = make_project(db, members={annotator: "annotator"})
    before = snapshot(db)
    patch = app_client.patch(
        f"/api/v1/projects/{project}", json={"overlap": 5}, headers=annotator.headers
    )
    assert patch.status_code == 403
    assert (
        app_client.get(f"/api/v1/projects/{project}", headers=annotator.headers).status_code == 200
    )
    assert (
        app_client.get(f"/api/v1/projects/{project}", headers=stranger.headers).status_code == 403
    )
    assert app_client.get("/api/v1/projects/999", headers=annotator.headers).status_code == 404
    listed = app_client.get("/api/v1/projects", headers=stranger.headers).json()
    assert listed == {"items": [], "next_after": None}
    assert snapshot(db) == before


def test_project_list_paginates(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    for index in range(3):
        make_project(db, name=f"p{index}")
    first = app_client.get("/api/v1/projects?limit=2", headers=admin.headers).json()
    assert [p["name"] for p in first["items"]] == ["p0", "p1"]
    second = app_client.get(
        f"/api/v1/projects?limit=2&after={first['next_after']}", headers=admin.headers
    ).json()
    assert [p["name"] for p in second["items"]] == ["p2"]
    assert second["next_after"] is None


def test_members_are_managed_by_managers(app_client: TestClient, db: Database) -> None:
    manager, annotator = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, members={manager: "manager"})
    url = f"/api/v1/projects/{project}/members/{annotator.id}"
    ok = app_client.put(url, json={"role": "annotator"}, headers=manager.headers)
    assert ok.status_code == 200
    assert ok.json() == {"project_id": project, "user_id": annotator.id, "role": "annotator"}
    before = snapshot(db)
    assert (
        app_client.put(url, json={"role": "annotator"}, headers=annotator.headers).status_code
        == 403
    )
    bad = app_client.put(url, json={"role": "emperor"}, headers=manager.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["allowed"] == [
        "manager",
        "annotator",
        "reviewer",
        "auditor",
    ]
    missing = app_client.put(
        f"/api/v1/projects/{project}/members/999",
        json={"role": "annotator"},
        headers=manager.headers,
    )
    assert missing.status_code == 404
    assert snapshot(db) == before
