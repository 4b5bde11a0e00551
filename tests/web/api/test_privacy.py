from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories import Person, count, make_project, make_user, snapshot
from tests.web.api.privacy_fixtures import CANARIES, CANARY_TEXT, client, keyed_settings

from loupe.db.database import Database
from loupe.services.compliance.vault import load_ref_key, subject_ref
from loupe.settings import Settings

__all__ = ["client", "keyed_settings"]  # fixtures


def _import(client: TestClient, manager: Person, project: int, rows: list[dict[str, Any]]) -> None:
    response = client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=manager.headers
    )
    assert response.status_code == 200, response.text


def test_import_stores_redacted_data_and_seals_the_original(
    client: TestClient, db: Database, keyed_settings: Settings
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    _import(client, manager, project, [{"id": "a", "text": CANARY_TEXT, "subject_id": "s1"}])
    item = client.get(f"/api/v1/projects/{project}/items", headers=manager.headers).json()
    data = item["items"][0]["data"]
    assert data == {"text": "mail [EMAIL] or call [PHONE], card [CREDIT_CARD]"}
    assert count(db, "item_vaults") == 1
    assert count(db, "subject_keys") == 1
    with db.engine.connect() as connection:
        from sqlalchemy import text

        row = connection.execute(text("SELECT sensitivity, subject_id, withheld FROM items")).one()
    # The subject only as its keyed ref (docs/compliance.md).
    ref = subject_ref("s1", key=load_ref_key(keyed_settings.resolved_key_dir()))
    assert tuple(row) == ("personal", ref, False)


def test_withhold_policy_keeps_items_from_annotators(client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    url = f"/api/v1/projects/{project}/privacy"
    changed = client.put(url, json={"policy": "withhold"}, headers=manager.headers)
    assert changed.status_code == 200
    assert changed.json() == {
        "project_id": project,
        "policy": "withhold",
        "gate": True,
        "retention_days": None,
    }
    _import(
        client, manager, project, [{"id": "pii", "text": CANARY_TEXT}, {"id": "ok", "text": "x"}]
    )
    next_url = f"/api/v1/projects/{project}/tasks/next"
    task = client.post(next_url, headers=annotator.headers).json()["task"]
    assert task["external_id"] == "ok"
    client.post(
        f"/api/v1/projects/{project}/items/{task['item_id']}/labels",
        json={"answer": "call"},
        headers=annotator.headers,
    )
    assert client.post(next_url, headers=annotator.headers).json() == {"task": None}


def test_privacy_settings_need_rights_and_valid_input(client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    url = f"/api/v1/projects/{project}/privacy"
    assert client.get(url, headers=annotator.headers).json()["policy"] == "placeholder"
    before = snapshot(db)
    assert client.put(url, json={"gate": False}).status_code == 401
    assert client.put(url, json={"gate": False}, headers=annotator.headers).status_code == 403
    for bad in ({"policy": "shout"}, {"retention_days": 0}, {"extra": 1}):
        assert client.put(url, json=bad, headers=manager.headers).status_code == 422
    assert snapshot(db) == before
    events = [e["action"] for e in _audit(client, db)]
    assert "privacy.update" not in events


def _audit(client: TestClient, db: Database) -> list[dict[str, Any]]:
    auditor = make_user(db, f"aud{count(db, 'users')}", "auditor")
    response = client.get("/api/v1/audit?limit=1000", headers=auditor.headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_reveal_needs_clearance_and_purpose_and_is_audited(
    client: TestClient, db: Database
) -> None:
    admin = make_user(db, "root", "admin")
    manager = make_user(db, "mgr", "manager")
    reviewer = make_user(db, "rev", "reviewer")
    annotator = make_user(db, "ann")
    project = make_project(
        db, members={manager: "manager", reviewer: "reviewer", annotator: "annotator"}
    )
    _import(client, manager, project, [{"id": "a", "text": CANARY_TEXT}])
    url = f"/api/v1/projects/{project}/items/1/reveal"
    purpose = {"purpose": "checking a disputed redaction"}
    before = snapshot(db)
    assert client.post(url, json=purpose).status_code == 401
    assert client.post(url, json=purpose, headers=annotator.headers).status_code == 403
    denied = client.post(url, json=purpose, headers=reviewer.headers)
    assert denied.status_code == 403
    assert "clearance" in denied.json()["error"]["message"]
    assert snapshot(db) == before
    grant = client.post(
        "/api/v1/clearances",
        json={"user_id": reviewer.id, "project_id": project, "sensitivity": "personal"},
        headers=admin.headers,
    )
    assert grant.status_code == 201, grant.text
    before = snapshot(db)
    assert client.post(url, json={"purpose": "why"}, headers=reviewer.headers).status_code == 422
    assert client.post(url, json={}, headers=reviewer.headers).status_code == 422
    missing = f"/api/v1/projects/{project}/items/99/reveal"
    assert client.post(missing, json=purpose, headers=reviewer.headers).status_code == 404
    assert snapshot(db) == before
    shown = client.post(url, json=purpose, headers=reviewer.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["data"] == {"text": CANARY_TEXT}
    assert body["redacted"] == {"text": "mail [EMAIL] or call [PHONE], card [CREDIT_CARD]"}
    assert body["detected"] == ["CREDIT_CARD", "EMAIL", "PHONE"]
    assert body["spans"]["text"][0] == [5, 27, 5, 12, "EMAIL"]
    # Admins too need a clearance: the role alone never shows raw content.
    assert client.post(url, json=purpose, headers=admin.headers).status_code == 403
    reveals = [e for e in _audit(client, db) if e["action"] == "item.reveal"]
    assert len(reveals) == 1
    assert reveals[0]["actor_id"] == reviewer.id
    assert reveals[0]["target"] == "item:1"
    assert reveals[0]["details"] == {"purpose": purpose["purpose"], "sensitivity": "personal"}
    assert reveals[0]["seq"] == body["audit_seq"]
    # The purpose is the revealer's own words: auditors read it gated.
    said = {"purpose": f"customer {CANARIES[0]} called about it"}
    assert client.post(url, json=said, headers=reviewer.headers).status_code == 200
    logged = [e for e in _audit(client, db) if e["action"] == "item.reveal"][-1]
    assert logged["details"]["purpose"] == "customer [EMAIL] called about it"


def test_clearances_endpoints(client: TestClient, db: Database) -> None:
    # Regression (issue #12): managers may not grant clearances, only admins, per project.
    admin = make_user(db, "root", "admin")
    boss = make_user(db, "boss", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={boss: "manager", annotator: "annotator"})
    body = {
        "user_id": annotator.id,
        "project_id": project,
        "sensitivity": "health",
        "expires_at": "2999-01-01T00:00:00Z",
    }
    before = snapshot(db) | {"clearances": count(db, "clearances")}
    assert client.post("/api/v1/clearances", json=body).status_code == 401
    assert (
        client.post("/api/v1/clearances", json=body, headers=annotator.headers).status_code == 403
    )
    assert client.post("/api/v1/clearances", json=body, headers=boss.headers).status_code == 403
    own = {**body, "user_id": admin.id}
    assert client.post("/api/v1/clearances", json=own, headers=admin.headers).status_code == 403
    for bad in (
        {**body, "sensitivity": "secret"},
        {**body, "expires_at": "2001-01-01T00:00:00Z"},
        {**body, "user_id": 0},
        {k: v for k, v in body.items() if k != "project_id"},
    ):
        assert client.post("/api/v1/clearances", json=bad, headers=admin.headers).status_code == 422
    for unknown in ({**body, "user_id": 999}, {**body, "project_id": 999}):
        assert (
            client.post("/api/v1/clearances", json=unknown, headers=admin.headers).status_code
            == 404
        )
    assert snapshot(db) | {"clearances": count(db, "clearances")} == before
    made = client.post("/api/v1/clearances", json=body, headers=admin.headers)
    assert made.status_code == 201
    out = made.json()
    assert {k: out[k] for k in ("user_id", "project_id", "sensitivity", "granted_by")} == {
        "user_id": annotator.id,
        "project_id": project,
        "sensitivity": "health",
        "granted_by": admin.id,
    }
    assert client.get("/api/v1/clearances", headers=boss.headers).status_code == 403
    assert client.delete(f"/api/v1/clearances/{out['id']}", headers=boss.headers).status_code == 403
    listed = client.get("/api/v1/clearances", headers=admin.headers).json()
    assert [c["id"] for c in listed] == [out["id"]]
    gone = client.delete(f"/api/v1/clearances/{out['id']}", headers=admin.headers)
    assert gone.status_code == 204
    assert (
        client.delete(f"/api/v1/clearances/{out['id']}", headers=admin.headers).status_code == 404
    )
    actions = [e["action"] for e in _audit(client, db)]
    assert actions.count("clearance.grant") == 1
    assert actions.count("clearance.revoke") == 1


# Letters, spaces and stray digits around the canaries (a number next to a card number
# once hid it from the detector).
texts = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", categories=["L", "Zs", "Nd"]), max_size=20),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=texts, order=st.permutations(list(CANARIES)))
def test_no_annotator_facing_response_contains_an_identifier(
    client: TestClient, db: Database, pieces: list[str], order: list[str]
) -> None:
    """Property: whatever the text around them, canary identifiers in an item's data or
    metadata never reach non-cleared roles through next task, skip, item and label
    listings, exports or error bodies."""
    if count(db, "users") == 0:
        _TOKENS.clear()
        people = {role: make_user(db, role, role) for role in ("manager", "reviewer", "annotator")}
        make_project(db, members={p: r for r, p in people.items()}, overlap=3)
        make_user(db, "outsider")
    project = 1
    n = count(db, "items")
    text = " ".join(f"{piece} {canary}," for piece, canary in zip(pieces * 3, order, strict=False))
    manager_headers = _headers(db, "manager")
    row = {"id": f"p{n}", "text": text, "metadata": {"note": text, "more": {"x": [text]}}}
    _import_raw(client, manager_headers, project, [row])
    seen: list[str] = []
    for username in ("manager", "reviewer", "annotator", "outsider"):
        headers = _headers(db, username)
        base = f"/api/v1/projects/{project}"
        task = client.post(f"{base}/tasks/next", headers=headers)
        seen.append(task.text)
        if task.status_code == 200 and task.json()["task"]:
            item_id = task.json()["task"]["item_id"]
            seen.append(client.post(f"{base}/tasks/{item_id}/skip", headers=headers).text)
        seen.append(client.get(f"{base}/labels", headers=headers).text)
        seen.append(client.get(f"{base}/items/{n + 1}", headers=headers).text)
        seen.append(client.get(f"{base}/items", headers=headers).text)
        seen.append(client.get(f"{base}/export?kind=items", headers=headers).text)
        seen.append(client.get(f"/api/v1/projects/999/items/{n + 1}", headers=headers).text)
        reveal = client.post(
            f"{base}/items/{n + 1}/reveal", json={"purpose": "property test run"}, headers=headers
        )
        seen.append(reveal.text)
    joined = "\n".join(seen)
    for canary in CANARIES:
        assert canary not in joined
        assert canary.replace(" ", "") not in joined


_TOKENS: dict[tuple[str, str], str] = {}


def _headers(db: Database, username: str) -> dict[str, str]:
    key = (db.url, username)
    if key not in _TOKENS:
        from loupe.services.access import Actor
        from loupe.services.people import users

        with db.transaction() as session:
            from sqlalchemy import select

            from loupe.db.models import User

            user_id = session.scalar(select(User.id).where(User.username == username))
            assert user_id is not None
            _TOKENS[key] = users.issue_token(session, Actor.system(), user_id=user_id).secret
    return {"Authorization": f"Bearer {_TOKENS[key]}"}


def _import_raw(
    client: TestClient, headers: dict[str, str], project: int, rows: list[dict[str, Any]]
) -> None:
    response = client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=headers
    )
    assert response.status_code == 200, response.text


def test_a_number_next_to_a_card_number_does_not_hide_it() -> None:
    from loupe.privacy import Redactor

    assert CANARIES[2] not in Redactor().redact(f"0 {CANARIES[2]}, thanks").text


def test_withheld_counts_and_retry_endpoints(client: TestClient, db: Database) -> None:
    manager, annotator = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    base = f"/api/v1/projects/{project}/privacy"
    put = client.put(base, json={"policy": "withhold"}, headers=manager.headers)
    assert put.status_code == 200
    imported = client.post(
        f"/api/v1/projects/{project}/items",
        json={"items": [{"id": "a", "text": CANARY_TEXT}, {"id": "b", "text": "play jazz"}]},
        headers=manager.headers,
    )
    assert imported.json() == {"received": 2, "created": 2, "existing": 0, "withheld": 1}
    assert client.get(f"{base}/withheld").status_code == 401
    assert client.get(f"{base}/withheld", headers=annotator.headers).status_code == 200
    got = client.get(f"{base}/withheld", headers=manager.headers)
    assert got.json() == {"project_id": project, "total": 1, "by_reason": {"policy": 1}}
    before = snapshot(db)
    assert client.post(f"{base}/withheld/retry").status_code == 401
    refused = client.post(f"{base}/withheld/retry", headers=annotator.headers)
    assert refused.status_code == 403
    assert client.post(f"{base}/withheld/retry?x=1", headers=annotator.headers).status_code == 403
    missing = client.post("/api/v1/projects/999/privacy/withheld/retry", headers=manager.headers)
    assert missing.status_code == 404
    bad = client.post("/api/v1/projects/zero/privacy/withheld/retry", headers=manager.headers)
    assert bad.status_code == 422
    assert snapshot(db) == before
    same = client.post(f"{base}/withheld/retry", headers=manager.headers)
    assert same.json() == {"retried": 1, "released": 0}  # the same text, the same verdict
    client.put(base, json={"policy": "placeholder"}, headers=manager.headers)
    released = client.post(f"{base}/withheld/retry", headers=manager.headers)
    assert released.json() == {"retried": 1, "released": 1}
    items = client.get(f"/api/v1/projects/{project}/items", headers=manager.headers).json()
    texts = [item["data"]["text"] for item in items["items"]]
    assert texts == ["mail [EMAIL] or call [PHONE], card [CREDIT_CARD]", "play jazz"]
