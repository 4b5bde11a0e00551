from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.factories import make_user, snapshot

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.services.people.eligibility import load_profile


def test_profiles_are_read_by_their_owner_and_managers(
    app_client: TestClient, db: Database
) -> None:
    manager, ann, other = make_user(db, "mgr", "manager"), make_user(db, "ann"), make_user(db, "b")
    app_client.put(
        f"/api/v1/users/{ann.id}/domains/medical", json={"level": 2}, headers=manager.headers
    )
    mine = app_client.get("/api/v1/me/profile", headers=ann.headers)
    assert mine.status_code == 200
    body = mine.json()
    granted = body["domains"][0].pop("granted_by")
    assert granted == manager.id
    assert body == {
        "user_id": ann.id,
        "username": "ann",
        "role": "annotator",
        "domains": [
            {
                "domain": "medical",
                "level": 2,
                "source": "manager",
                "expires_at": None,
                "expired": False,
            }
        ],
        "languages": [],
        "clearances": [],
        "qualifications": [],
    }
    url = f"/api/v1/users/{ann.id}/profile"
    assert app_client.get(url, headers=ann.headers).json() == mine.json()
    assert app_client.get(url, headers=manager.headers).json() == mine.json()
    assert app_client.get("/api/v1/me/profile").status_code == 401
    assert app_client.get(url).status_code == 401
    refused = app_client.get(url, headers=other.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["action"] == "contributors.manage"
    assert app_client.get("/api/v1/users/999/profile", headers=manager.headers).status_code == 404


def test_languages_are_set_by_their_owner_or_a_manager(
    app_client: TestClient, db: Database
) -> None:
    manager, ann, other = make_user(db, "mgr", "manager"), make_user(db, "ann"), make_user(db, "b")
    url = f"/api/v1/users/{ann.id}/languages"
    done = app_client.put(url, json={"languages": ["de-AT", "EN", "de"]}, headers=ann.headers)
    assert done.status_code == 200
    assert done.json() == {"user_id": ann.id, "languages": ["de", "en"]}
    assert app_client.put(url, json={"languages": ["fr"]}, headers=manager.headers).json() == {
        "user_id": ann.id,
        "languages": ["fr"],
    }
    before = snapshot(db)
    assert app_client.put(url, json={"languages": ["de"]}).status_code == 401
    assert app_client.put(url, json={"languages": ["de"]}, headers=other.headers).status_code == 403
    for bad, field in [
        ({"languages": ["de", "not a tag"]}, "languages[1]"),
        ({"languages": "de"}, "languages"),
        ({"languages": ["de"], "extra": 1}, "extra"),
        ({}, "languages"),
    ]:
        refused = app_client.put(url, json=bad, headers=ann.headers)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["message"].startswith(field), refused.json()
    assert (
        "'de', 'en' or 'pt-BR'"
        in app_client.put(url, json={"languages": ["deutsch!"]}, headers=ann.headers).json()[
            "error"
        ]["message"]
    )
    assert (
        app_client.put(
            "/api/v1/users/999/languages", json={"languages": []}, headers=manager.headers
        ).status_code
        == 404
    )
    assert snapshot(db) == before


def test_managers_grant_and_revoke_domain_levels(app_client: TestClient, db: Database) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    url = f"/api/v1/users/{ann.id}/domains/medical"
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    granted = app_client.put(
        url, json={"level": 3, "expires_at": expires.isoformat()}, headers=manager.headers
    )
    assert granted.status_code == 200
    body = granted.json()
    assert body.pop("created_at")
    assert body == {
        "user_id": ann.id,
        "domain": "medical",
        "level": 3,
        "source": "manager",
        "granted_by": manager.id,
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
    }
    with db.transaction(readonly=True) as session:
        raw = Raw(session)
        assert load_profile(raw, ann.id, now=utcnow()).levels == {"medical": 3}
        assert load_profile(raw, ann.id, now=expires + timedelta(seconds=1)).levels == {}
    deleted = app_client.delete(url, headers=manager.headers)
    assert deleted.status_code == 204
    assert app_client.get("/api/v1/me/profile", headers=ann.headers).json()["domains"] == []
    audit = app_client.get("/api/v1/audit", headers=make_user(db, "aud", "auditor").headers)
    actions = [e["action"] for e in audit.json()["items"] if e["action"].startswith("contrib")]
    assert actions == ["contributor.grant", "contributor.revoke"]


def test_domain_changes_refuse_and_change_nothing(app_client: TestClient, db: Database) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    url = f"/api/v1/users/{ann.id}/domains/medical"
    before = snapshot(db)
    assert app_client.put(url, json={"level": 1}).status_code == 401
    assert app_client.put(url, json={"level": 1}, headers=ann.headers).status_code == 403
    own = app_client.put(
        f"/api/v1/users/{manager.id}/domains/medical", json={"level": 1}, headers=manager.headers
    )
    assert own.status_code == 403
    assert "nobody may grant a level to themselves" in own.json()["error"]["message"]
    past = (utcnow() - timedelta(days=1)).isoformat()
    for target, body, field in [
        (url, {"level": 4}, "level"),
        (url, {"level": 0}, "level"),
        (url, {"level": "high"}, "level"),
        (url, {"level": 1, "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
        (url, {"level": 1, "expires_at": past}, "expires_at"),
        (url, {"level": 1, "note": "x"}, "note"),
        (f"/api/v1/users/{ann.id}/domains/Medical!", {"level": 1}, "domain"),
        (f"/api/v1/users/{ann.id}/domains/ana-ruiz", {"level": 1}, "domain: holds what"),
    ]:
        refused = app_client.put(target, json=body, headers=manager.headers)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["message"].startswith(field), refused.json()
    unknown = "/api/v1/users/999/domains/medical"
    assert app_client.put(unknown, json={"level": 1}, headers=manager.headers).status_code == 404
    assert app_client.delete(url).status_code == 401
    assert app_client.delete(url, headers=ann.headers).status_code == 403
    missing = app_client.delete(url, headers=manager.headers)
    assert missing.status_code == 404
    assert "holds no level in 'medical'" in missing.json()["error"]["message"]
    bad = app_client.delete(f"/api/v1/users/{ann.id}/domains/MEDICAL", headers=manager.headers)
    assert bad.status_code == 422
    assert snapshot(db) == before


def test_managers_list_contributors_by_domain(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    people = [make_user(db, f"u{i}") for i in range(3)]
    for person in people[:2]:
        app_client.put(
            f"/api/v1/users/{person.id}/domains/legal", json={"level": 1}, headers=manager.headers
        )
    first = app_client.get("/api/v1/contributors?limit=2", headers=manager.headers).json()
    assert [p["username"] for p in first["items"]] == ["mgr", "u0"]
    assert first["next_after"] == people[0].id
    rest = app_client.get(
        f"/api/v1/contributors?after={first['next_after']}", headers=manager.headers
    ).json()
    assert ([p["username"] for p in rest["items"]], rest["next_after"]) == (["u1", "u2"], None)
    legal = app_client.get("/api/v1/contributors?domain=legal", headers=manager.headers).json()
    assert [p["username"] for p in legal["items"]] == ["u0", "u1"]
    assert legal["items"][0]["domains"][0]["level"] == 1
    assert app_client.get("/api/v1/contributors").status_code == 401
    assert app_client.get("/api/v1/contributors", headers=people[0].headers).status_code == 403
    for query in ("domain=Legal!", "limit=0", "after=-1"):
        bad = app_client.get(f"/api/v1/contributors?{query}", headers=manager.headers)
        assert bad.status_code == 422, query
