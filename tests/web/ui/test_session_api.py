"""The JSON API with a browser session: the cookie authenticates, writes need X-CSRF-Token,
and a bearer token still takes exactly its own path."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import add_items, make_project, make_user, snapshot
from tests.web.ui.signin import sign_in

from loupe.db.database import Database


def test_the_cookie_authenticates_reads_and_csrf_guarded_writes(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 2)
    csrf = sign_in(app_client, db, maya)

    assert app_client.get(f"/api/v1/projects/{project}").status_code == 200
    task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers={"X-CSRF-Token": csrf})
    assert task.status_code == 200
    item = task.json()["task"]["item_id"]
    label = app_client.post(
        f"/api/v1/projects/{project}/items/{item}/labels",
        json={"answer": "call"},
        headers={"X-CSRF-Token": csrf},
    )
    assert label.status_code == 201
    assert label.json()["user_id"] == maya.id


def test_a_write_without_or_with_a_wrong_token_is_403_and_changes_nothing(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 2)
    sign_in(app_client, db, maya)
    before = snapshot(db)
    for headers in [{}, {"X-CSRF-Token": "forged"}]:
        response = app_client.post(
            f"/api/v1/projects/{project}/items/1/labels", json={"answer": "call"}, headers=headers
        )
        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"reason": "csrf"}
        skip = app_client.post(f"/api/v1/projects/{project}/tasks/1/skip", headers=headers)
        assert skip.status_code == 403
    assert snapshot(db) == before


def test_a_bearer_token_wins_over_any_cookie(app_client: TestClient, db: Database) -> None:
    maya, ben = make_user(db, "maya"), make_user(db, "ben")
    project = make_project(db, members={maya: "annotator", ben: "annotator"})
    add_items(db, project, 2)
    sign_in(app_client, db, maya)
    # Ben's token, Maya's cookie, no CSRF header: the token path, as Ben.
    task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ben.headers)
    assert task.json()["task"]["item_id"] == 1
    response = app_client.post(
        f"/api/v1/projects/{project}/items/1/labels", json={"answer": "call"}, headers=ben.headers
    )
    assert response.status_code == 201
    assert response.json()["user_id"] == ben.id
    wrong = app_client.get(
        f"/api/v1/projects/{project}", headers={"Authorization": "Bearer lp_nope"}
    )
    assert wrong.status_code == 401


def test_an_unknown_cookie_is_401(app_client: TestClient) -> None:
    app_client.cookies.set("loupe_session", "made-up")
    response = app_client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
