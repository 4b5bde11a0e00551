"""Issue #12, "Access": per-project clearances granted by admins, blind listings,
gold only under a lease, login throttling, password change, deactivation, token expiry.

Every test here failed before the fix it names.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.factories import (
    SCHEMA,
    Person,
    add_items,
    count,
    hold,
    make_project,
    make_user,
    snapshot,
)
from tests.web.ui.signin import HTML, PASSWORD, give_password, login_token, sign_in

from loupe.db.database import Database
from loupe.db.models import ApiToken, User, utcnow
from loupe.db.privacy_models import AuditEvent
from loupe.db.session_models import LoginThrottle
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.quality.gold import set_gold

HEALTH = "Patient Jane Roe, NHS 943 476 5919, diagnosed with type 2 diabetes"


def _actions(db: Database) -> list[str]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


# --- 1. clearances are per project, granted by admins only ------------------------------------


def test_a_clearance_in_one_project_reveals_nothing_in_another(
    app_client: TestClient, db: Database
) -> None:
    admin = make_user(db, "root", "admin")
    boss1, boss2 = make_user(db, "boss1", "manager"), make_user(db, "boss2", "manager")
    rev = make_user(db, "rev", "reviewer")
    one = make_project(db, name="one", members={boss1: "manager", rev: "reviewer"})
    two = make_project(db, name="two", members={boss2: "manager", rev: "reviewer"})
    item = app_client.post(
        f"/api/v1/projects/{one}/items",
        json={"items": [{"id": "p1", "text": HEALTH}]},
        headers=admin.headers,
    )
    assert item.status_code == 200, item.text
    grant = {"user_id": rev.id, "project_id": two, "sensitivity": "health"}
    before = snapshot(db)
    # The manager of project 2 (and two managers for each other) may not clear anyone.
    assert (
        app_client.post("/api/v1/clearances", json=grant, headers=boss2.headers).status_code == 403
    )
    mutual = {"user_id": boss1.id, "project_id": two, "sensitivity": "health"}
    assert (
        app_client.post("/api/v1/clearances", json=mutual, headers=boss2.headers).status_code == 403
    )
    assert snapshot(db) == before
    made = app_client.post("/api/v1/clearances", json=grant, headers=admin.headers)
    assert made.status_code == 201, made.text
    assert made.json()["project_id"] == two
    url = f"/api/v1/projects/{one}/items/1/reveal"
    before = snapshot(db)
    refused = app_client.post(url, json={"purpose": "checking a redaction"}, headers=rev.headers)
    assert refused.status_code == 403
    assert "Jane" not in refused.text and "943" not in refused.text
    assert snapshot(db) == before
    assert _actions(db).count("clearance.grant") == 1


def test_routing_uses_the_clearance_of_the_items_project(
    app_client: TestClient, db: Database
) -> None:
    admin, ann = make_user(db, "root", "admin"), make_user(db, "ann")
    config = {**SCHEMA, "routing": {"clearance_for": ["health"]}}
    one = make_project(db, name="one", config=config, members={ann: "annotator"})
    two = make_project(db, name="two", config=config, members={ann: "annotator"})
    for project in (one, two):
        app_client.post(
            f"/api/v1/projects/{project}/items",
            json={"items": [{"id": "h", "text": "my diagnosis", "sensitivity": "health"}]},
            headers=admin.headers,
        )
    grant = {"user_id": ann.id, "project_id": two, "sensitivity": "health"}
    assert (
        app_client.post("/api/v1/clearances", json=grant, headers=admin.headers).status_code == 201
    )
    first = app_client.post(f"/api/v1/projects/{one}/tasks/next", headers=ann.headers)
    assert first.json() == {"task": None}
    second = app_client.post(f"/api/v1/projects/{two}/tasks/next", headers=ann.headers)
    assert second.json()["task"]["external_id"] == "h"


# --- 2. blind review ---------------------------------------------------------------------------


def test_reviewers_list_labels_and_reviews_without_who(
    app_client: TestClient, db: Database
) -> None:
    ann, rev = make_user(db, "labeller_zed"), make_user(db, "rev", "reviewer")
    boss, auditor = make_user(db, "boss", "manager"), make_user(db, "aud", "auditor")
    config = {**SCHEMA, "review": {"rate": 1.0}}
    project = make_project(
        db, config=config, members={ann: "annotator", rev: "reviewer", boss: "manager"}
    )
    add_items(db, project, 1)
    base = f"/api/v1/projects/{project}"
    task = app_client.post(f"{base}/tasks/next", headers=ann.headers).json()["task"]
    label = app_client.post(
        f"{base}/items/{task['item_id']}/labels", json={"answer": "call"}, headers=ann.headers
    ).json()
    verdict = app_client.post(
        f"{base}/labels/{label['id']}/reviews", json={"verdict": "accept"}, headers=rev.headers
    )
    assert verdict.status_code == 201, verdict.text
    blind_labels = app_client.get(f"{base}/labels", headers=rev.headers)
    assert blind_labels.status_code == 200
    assert [row["user_id"] for row in blind_labels.json()["items"]] == [None]
    blind_reviews = app_client.get(f"{base}/reviews", headers=rev.headers).json()["items"]
    assert [(r["labeller_id"], r["reviewer_id"]) for r in blind_reviews] == [(None, None)]
    for seer in (boss, auditor):
        labels = app_client.get(f"{base}/labels", headers=seer.headers).json()["items"]
        assert [row["user_id"] for row in labels] == [ann.id]
        reviews = app_client.get(f"{base}/reviews", headers=seer.headers).json()["items"]
        assert [(r["labeller_id"], r["reviewer_id"]) for r in reviews] == [(ann.id, rev.id)]
    assert app_client.get(f"{base}/labels", headers=ann.headers).status_code == 403
    assert app_client.get(f"{base}/labels").status_code == 401


# --- 3. gold only under the lease it was served with --------------------------------------------


def test_gold_cannot_be_answered_by_id_without_a_lease(
    app_client: TestClient, db: Database
) -> None:
    boss, ann = make_user(db, "boss", "manager"), make_user(db, "ann")
    project = make_project(db, members={boss: "manager", ann: "annotator"})
    add_items(db, project, 2)
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u1", "music")])
    url = f"/api/v1/projects/{project}/items/2/labels"
    before = snapshot(db) | {"gold_results": count(db, "gold_results")}
    refused = app_client.post(url, json={"answer": "call"}, headers=ann.headers)
    assert refused.status_code == 409
    assert "lease" in refused.json()["error"]["message"]
    assert "music" not in refused.text
    assert snapshot(db) | {"gold_results": count(db, "gold_results")} == before
    hold(db, ann, project, 2)
    served = app_client.post(url, json={"answer": "call"}, headers=ann.headers)
    assert served.status_code == 201, served.text
    assert served.json()["gold"] == {"correct": False, "expected": "music", "paused": False}
    # Resubmitting the same answer (the lease is gone) teaches nothing either.
    again = app_client.post(url, json={"answer": "call"}, headers=ann.headers)
    assert again.status_code == 200
    assert again.json()["gold"] is None


def test_an_expired_lease_still_counts_as_served_for_gold_and_ordinary_items(
    db: Database,
) -> None:
    """An expired lease means the item was served to this user: gold or not, the label
    is taken as long as the item has room (gold is outside the overlap), so an expired
    lease tells gold from ordinary items no more than a live one."""
    import pytest

    from loupe.errors import Conflict

    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, overlap=1, members={ann: "annotator", bob: "annotator"})
    add_items(db, project, 3)
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", "music")])
    for item in (1, 2, 3):
        hold(db, ann, project, item, hours=1)
    later = utcnow() + timedelta(hours=2)
    with db.transaction() as session:
        gold = submit_label(session, ann.actor, project, 1, "call", now=later)
        ordinary = submit_label(session, ann.actor, project, 2, "call", now=later)
    assert gold.created and gold.gold is not None and not gold.gold.correct
    assert ordinary.created and ordinary.gold is None
    hold(db, bob, project, 3, hours=3)  # item 3 was served again meanwhile: no room
    before = snapshot(db)
    with pytest.raises(Conflict, match="label"), db.transaction() as session:
        submit_label(session, ann.actor, project, 3, "call", now=later)
    assert snapshot(db) == before


# --- 4. sign-in throttling, password change, deactivation, token expiry -----------------------


def _login(client: TestClient, username: str, password: str) -> int:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": login_token(client)},
        headers=HTML,
        follow_redirects=False,
    )
    return response.status_code


def test_sign_in_is_throttled_per_account_with_retry_after(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    give_password(db, maya)
    assert [_login(app_client, "maya", "wrong password") for _ in range(5)] == [401] * 5
    page = app_client.post(
        "/login",
        data={"username": "maya", "password": PASSWORD, "csrf_token": login_token(app_client)},
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code == 429  # even the right password, while locked out
    assert int(page.headers["Retry-After"]) >= 1
    assert "too many failed sign-ins" in page.text
    assert count(db, "browser_sessions") == 0
    assert "user.login_locked" in _actions(db)
    # The lockout is a row in the database: move it into the past (no waiting on a clock).
    with db.transaction() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert _login(app_client, "maya", PASSWORD) == 303
    with db.transaction(readonly=True) as session:
        assert session.get(LoginThrottle, "user:maya") is None  # a success clears the count


def test_a_lockout_grows_with_further_failures(app_client: TestClient, db: Database) -> None:
    from loupe.services.people.sessions import record_failed_login

    now = utcnow()
    lockouts = []
    for n in range(7):
        with db.transaction() as session:
            record_failed_login(session, username="ghost", client=None, now=now + timedelta(
                seconds=n))  # fmt: skip
            row = session.get(LoginThrottle, "user:ghost")
            assert row is not None
            if row.locked_until is not None:
                lockouts.append((row.locked_until - row.last_failure_at).total_seconds())
    assert lockouts == [30, 60, 120]


def test_a_password_change_ends_every_session(app_client: TestClient, db: Database) -> None:
    from loupe.services.people import users

    maya = make_user(db, "maya")
    sign_in(app_client, db, maya)
    assert app_client.get("/", headers=HTML, follow_redirects=False).status_code == 200
    with db.transaction() as session:
        users.set_password(session, Actor.system(), user_id=maya.id, password="a new passphrase")
    assert count(db, "browser_sessions") == 0
    assert app_client.get("/", headers=HTML, follow_redirects=False).status_code == 303
    assert "user.password" in _actions(db)


def test_deactivation_stops_sign_in_sessions_tokens_and_leases(
    app_client: TestClient, db: Database
) -> None:
    admin, boss = make_user(db, "root", "admin"), make_user(db, "boss", "manager")
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 1)
    base = f"/api/v1/projects/{project}"
    assert app_client.post(f"{base}/tasks/next", headers=maya.headers).json()["task"]
    other = TestClient(app_client.app)
    sign_in(other, db, maya)
    url = f"/api/v1/users/{maya.id}/deactivate"
    before = snapshot(db)
    assert app_client.post(url).status_code == 401
    assert app_client.post(url, headers=boss.headers).status_code == 403
    assert app_client.post(url, headers=maya.headers).status_code == 403
    self_url = f"/api/v1/users/{admin.id}/deactivate"
    assert app_client.post(self_url, headers=admin.headers).status_code == 403
    assert app_client.post("/api/v1/users/999/deactivate", headers=admin.headers).status_code == 404
    assert app_client.post("/api/v1/users/0/deactivate", headers=admin.headers).status_code == 422
    assert snapshot(db) == before
    done = app_client.post(url, headers=admin.headers)
    assert done.status_code == 200
    assert done.json()["is_active"] is False
    assert app_client.get(base, headers=maya.headers).status_code == 401
    assert other.get("/", headers=HTML, follow_redirects=False).status_code == 303
    assert count(db, "assignments") == 0
    assert count(db, "browser_sessions") == 0
    assert _login(app_client, "maya", PASSWORD) == 401
    back = app_client.post(f"/api/v1/users/{maya.id}/reactivate", headers=admin.headers)
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert app_client.post(f"{base}/tasks/next", headers=maya.headers).status_code == 200
    assert _actions(db).count("user.deactivate") == 1
    assert _actions(db).count("user.reactivate") == 1


def test_a_token_with_an_expiry_stops_working_after_it(
    app_client: TestClient, db: Database
) -> None:
    admin, maya, other = make_user(db, "root", "admin"), make_user(db, "maya"), make_user(db, "x")
    url = f"/api/v1/users/{maya.id}/tokens"
    before = count(db, "api_tokens")
    for bad in ({"expires_at": "2001-01-01T00:00:00Z"}, {"expires_at": "2999-01-01T00:00:00"},
                {"expires_at": "soon"}):  # fmt: skip
        assert app_client.post(url, json=bad, headers=admin.headers).status_code == 422
    assert app_client.post(url, json={}, headers=other.headers).status_code == 403
    assert count(db, "api_tokens") == before
    soon = (utcnow() + timedelta(days=1)).isoformat()
    made = app_client.post(url, json={"name": "ci", "expires_at": soon}, headers=admin.headers)
    assert made.status_code == 201, made.text
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    assert made.json()["expires_at"] is not None
    assert app_client.get(url, headers=token).status_code == 200
    with db.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == made.json()["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = app_client.get(url, headers=token)
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]


def test_person_fixture_is_unchanged(db: Database) -> None:
    person: Person = make_user(db, "p")
    with db.transaction(readonly=True) as session:
        user = session.get(User, person.id)
        assert user is not None and user.is_active
