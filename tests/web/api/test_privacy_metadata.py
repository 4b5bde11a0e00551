"""Item metadata passes the privacy gate like item data: redacted for everyone, the
original sealed and shown only through a cleared, audited reveal."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from tests.factories import make_project, make_user
from tests.web.api.privacy_fixtures import CANARIES, client, keyed_settings

from loupe.db.database import Database

__all__ = ["client", "keyed_settings"]  # fixtures

EMAIL, PHONE, CARD = CANARIES
METADATA = {
    "caller": f"{EMAIL} / {PHONE}",
    "device": {"owner_phone": PHONE, "cards": [CARD]},
    "gold": False,
}
REDACTED = {
    "caller": "[EMAIL] / [PHONE]",
    "device": {"owner_phone": "[PHONE]", "cards": ["[CREDIT_CARD]"]},
    "gold": False,
}


def test_metadata_identifiers_never_reach_uncleared_roles(client: TestClient, db: Database) -> None:
    admin = make_user(db, "root", "admin")
    people = {role: make_user(db, role, role) for role in ("manager", "reviewer", "annotator")}
    auditor = make_user(db, "aud", "auditor")
    project = make_project(db, members={p: r for r, p in people.items()})
    base = f"/api/v1/projects/{project}"
    imported = client.post(
        f"{base}/items",
        json={"items": [{"id": "m1", "text": "play jazz", "metadata": METADATA}]},
        headers=people["manager"].headers,
    )
    assert imported.status_code == 200, imported.text
    item = client.get(f"{base}/items/1", headers=people["manager"].headers).json()
    assert item["data"] == {"text": "play jazz"}
    assert item["metadata"] == REDACTED
    seen: list[str] = []
    for person in (*people.values(), auditor, admin):
        headers = person.headers
        task = client.post(f"{base}/tasks/next", headers=headers)
        seen.append(task.text)
        seen.append(client.get(f"{base}/items", headers=headers).text)
        seen.append(client.get(f"{base}/items/1", headers=headers).text)
        for kind in ("items", "labels", "consensus"):
            seen.append(client.get(f"{base}/export?kind={kind}", headers=headers).text)
            seen.append(client.get(f"{base}/export?kind={kind}&format=csv", headers=headers).text)
        reveal = client.post(
            f"{base}/items/1/reveal", json={"purpose": "metadata canary test"}, headers=headers
        )
        assert reveal.status_code in (403, 404)
        seen.append(reveal.text)
    joined = "\n".join(seen)
    assert "[PHONE]" in joined  # the checks can see the item
    for canary in CANARIES:
        assert canary not in joined
        assert canary.replace(" ", "") not in joined
        assert json.dumps(canary)[1:-1] not in joined


def test_a_cleared_reveal_and_a_subject_export_return_the_original_metadata(
    client: TestClient, db: Database
) -> None:
    admin = make_user(db, "root", "admin")
    reviewer = make_user(db, "rev", "reviewer")
    project = make_project(db, members={reviewer: "reviewer"})
    base = f"/api/v1/projects/{project}"
    row = {"id": "m1", "text": "play jazz", "metadata": METADATA, "subject_id": "s1"}
    assert (
        client.post(f"{base}/items", json={"items": [row]}, headers=admin.headers).status_code
        == 200
    )
    grant = client.post(
        "/api/v1/clearances",
        json={"user_id": reviewer.id, "project_id": project, "sensitivity": "personal"},
        headers=admin.headers,
    )
    assert grant.status_code == 201, grant.text
    shown = client.post(
        f"{base}/items/1/reveal", json={"purpose": "metadata canary test"}, headers=reviewer.headers
    )
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["data"] == {"text": "play jazz"}
    assert body["metadata"] == METADATA
    assert body["redacted_metadata"] == REDACTED
    assert body["detected"] == ["CREDIT_CARD", "EMAIL", "PHONE"]
    assert body["spans"]["metadata.device.owner_phone"] == [[0, 16, 0, 7, "PHONE"]]
    export = client.post(
        "/api/v1/subjects/export", json={"subject_id": "s1"}, headers=admin.headers
    )
    assert export.status_code == 200, export.text
    held = export.json()["items"][0]
    assert held["metadata"] == METADATA
    assert held["metadata_shown"] == REDACTED


def test_metadata_of_a_project_without_the_gate_is_stored_as_given(
    client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    base = f"/api/v1/projects/{project}"
    off = client.put(f"{base}/privacy", json={"gate": False}, headers=manager.headers)
    assert off.status_code == 200
    row = {"id": "p1", "text": "public", "metadata": {"source": PHONE}}
    assert (
        client.post(f"{base}/items", json={"items": [row]}, headers=manager.headers).status_code
        == 200
    )
    item = client.get(f"{base}/items/1", headers=manager.headers).json()
    assert item["metadata"] == {"source": PHONE}
