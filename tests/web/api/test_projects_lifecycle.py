"""``/projects/{id}/archive``, ``/unarchive``, ``/duplicate``, ``DELETE /projects/{id}``,
and the comments of an item."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.factories import Person, add_items, hold, make_project, make_user, snapshot

from loupe.db.database import Database


def _world(db: Database) -> tuple[int, Person, Person, Person]:
    manager, ann, outsider = (
        make_user(db, "mgr", "manager"),
        make_user(db, "ann"),
        make_user(db, "eve"),
    )
    project = make_project(db, members={manager: "manager", ann: "annotator"})
    add_items(db, project, 2)
    return project, manager, ann, outsider


def _delete(client: TestClient, project: int, body: Any, headers: dict[str, str]) -> Any:
    return client.request("DELETE", f"/api/v1/projects/{project}", json=body, headers=headers)


def test_archive_and_unarchive(app_client: TestClient, db: Database) -> None:
    project, manager, ann, outsider = _world(db)
    url = f"/api/v1/projects/{project}"
    before = snapshot(db)
    assert app_client.post(f"{url}/archive").status_code == 401
    assert app_client.post(f"{url}/archive", headers=ann.headers).status_code == 403
    assert app_client.post(f"{url}/archive", headers=outsider.headers).status_code == 403
    assert app_client.post("/api/v1/projects/0/archive", headers=manager.headers).status_code == 422
    assert snapshot(db) == before
    archived = app_client.post(f"{url}/archive", headers=manager.headers)
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    again = app_client.post(f"{url}/archive", headers=manager.headers)
    assert again.status_code == 409
    # Work is refused with a message that says why; reading still works.
    task = app_client.post(f"{url}/tasks/next", headers=ann.headers)
    assert task.status_code == 409, task.text
    assert "archived" in task.json()["error"]["message"]
    assert app_client.get(url, headers=ann.headers).status_code == 200
    listed = app_client.get("/api/v1/projects", headers=manager.headers).json()["items"]
    assert listed == []
    shelved = app_client.get("/api/v1/projects?archived=true", headers=manager.headers)
    assert [p["id"] for p in shelved.json()["items"]] == [project]
    reopened = app_client.post(f"{url}/unarchive", headers=manager.headers)
    assert reopened.status_code == 200 and reopened.json()["archived_at"] is None
    assert app_client.post(f"{url}/unarchive", headers=manager.headers).status_code == 409


def test_duplicate(app_client: TestClient, db: Database) -> None:
    project, manager, ann, _ = _world(db)
    url = f"/api/v1/projects/{project}/duplicate"
    before = snapshot(db)
    assert app_client.post(url, json={"name": "copy"}).status_code == 401
    assert app_client.post(url, json={"name": "copy"}, headers=ann.headers).status_code == 403
    assert app_client.post(url, json={}, headers=manager.headers).status_code == 422
    assert app_client.post(url, json={"name": ""}, headers=manager.headers).status_code == 422
    taken = app_client.post(url, json={"name": "intents"}, headers=manager.headers)
    assert taken.status_code == 409
    assert snapshot(db) == before
    made = app_client.post(url, json={"name": "copy", "members": True}, headers=manager.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["name"] == "copy" and body["config_version"] == 1
    members = app_client.get(f"/api/v1/projects/{body['id']}/members", headers=manager.headers)
    assert {(m["user_id"], m["role"]) for m in members.json()} == {
        (manager.id, "manager"),
        (ann.id, "annotator"),
    }


def test_delete_needs_the_name_and_a_manager(app_client: TestClient, db: Database) -> None:
    project, manager, ann, outsider = _world(db)
    before = snapshot(db)
    assert _delete(app_client, project, {"confirm": "intents"}, {}).status_code == 401
    assert _delete(app_client, project, {"confirm": "intents"}, ann.headers).status_code == 403
    assert _delete(app_client, project, {"confirm": "intents"}, outsider.headers).status_code == 403
    wrong = _delete(app_client, project, {"confirm": "intent"}, manager.headers)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["field"] == "confirm"
    assert _delete(app_client, project, {}, manager.headers).status_code == 422
    assert snapshot(db) == before
    done = _delete(app_client, project, {"confirm": "intents"}, manager.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["items_deleted"] == 2 and body["ledger_entries_kept"] == 0
    assert body["storage"]["backend"] in {"sqlite", "postgresql"}
    gone = app_client.get(f"/api/v1/projects/{project}", headers=manager.headers)
    assert gone.status_code == 404


def test_comments(app_client: TestClient, db: Database) -> None:
    project, manager, ann, outsider = _world(db)
    url = f"/api/v1/projects/{project}/items/1/comments"
    before = snapshot(db)
    assert app_client.post(url, json={"body": "hi"}).status_code == 401
    assert app_client.post(url, json={"body": "hi"}, headers=ann.headers).status_code == 403
    assert app_client.get(url, headers=outsider.headers).status_code == 403
    assert app_client.post(url, json={"body": " "}, headers=manager.headers).status_code == 422
    assert app_client.post(url, json={}, headers=manager.headers).status_code == 422
    missing = f"/api/v1/projects/{project}/items/99/comments"
    assert app_client.post(missing, json={"body": "x"}, headers=manager.headers).status_code == 404
    assert snapshot(db) == before
    assert app_client.get(url, headers=manager.headers).json() == []
    hold(db, ann, project, 1)
    made = app_client.post(url, json={"body": "mail me: ann@example.org"}, headers=ann.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert "ann@example.org" not in body["body"] and body["redacted"] is True
    assert body["mine"] is True
    listed = app_client.get(url, headers=manager.headers).json()
    assert [(c["body"], c["author"], c["mine"]) for c in listed] == [(body["body"], "ann", False)]
