from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import make_user, snapshot

from loupe.db.database import Database


def test_admin_creates_users_and_tokens(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    created = app_client.post(
        "/api/v1/users", json={"username": "maya", "role": "annotator"}, headers=admin.headers
    )
    assert created.status_code == 201
    user = created.json()
    assert user["username"] == "maya"
    assert user["role"] == "annotator"
    assert user["is_active"]
    token = app_client.post(
        f"/api/v1/users/{user['id']}/tokens", json={"name": "laptop"}, headers=admin.headers
    )
    assert token.status_code == 201
    secret = token.json()["token"]
    assert secret.startswith("lp_")
    assert token.json()["prefix"] == secret[:10]
    me = app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["username"] == "maya"
    listed = app_client.get(
        f"/api/v1/users/{user['id']}/tokens", headers={"Authorization": f"Bearer {secret}"}
    )
    assert [t["name"] for t in listed.json()] == ["laptop"]
    assert "token" not in listed.json()[0]


def test_revoked_tokens_stop_working(app_client: TestClient, db: Database) -> None:
    person = make_user(db, "maya")
    tokens = app_client.get(f"/api/v1/users/{person.id}/tokens", headers=person.headers).json()
    response = app_client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=person.headers)
    assert response.status_code == 204
    assert app_client.get("/api/v1/me", headers=person.headers).status_code == 401


def test_only_admins_manage_users(app_client: TestClient, db: Database) -> None:
    manager, other = make_user(db, "mgr", "manager"), make_user(db, "other")
    before = snapshot(db)
    body = {"username": "x", "role": "annotator"}
    assert app_client.post("/api/v1/users", json=body).status_code == 401
    assert app_client.post("/api/v1/users", json=body, headers=manager.headers).status_code == 403
    assert (
        app_client.post(
            f"/api/v1/users/{other.id}/tokens", json={}, headers=manager.headers
        ).status_code
        == 403
    )
    tokens = app_client.get(f"/api/v1/users/{other.id}/tokens", headers=other.headers).json()
    assert (
        app_client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=manager.headers).status_code
        == 404
    )
    assert snapshot(db) == before


def test_user_input_is_validated(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    before = snapshot(db)
    bad_role = app_client.post(
        "/api/v1/users", json={"username": "x", "role": "king"}, headers=admin.headers
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["error"]["details"]["field"] == "role"
    bad_name = app_client.post(
        "/api/v1/users", json={"username": "a b", "role": "annotator"}, headers=admin.headers
    )
    assert bad_name.status_code == 422
    dup = app_client.post(
        "/api/v1/users", json={"username": "root", "role": "annotator"}, headers=admin.headers
    )
    assert dup.status_code == 409
    assert snapshot(db) == before


def test_health_needs_no_token(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert app_client.get("/api/v1/nowhere").json()["error"]["code"] == "not_found"
