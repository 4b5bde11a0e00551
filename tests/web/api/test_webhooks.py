"""``/projects/{id}/webhooks``: success with the full body, 401, 403 per role, 422 per bad
input, and nothing changed after any failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import Person, count, make_project, make_user

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.app import create_app

URL = "https://receiver.example/hooks/loupe"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    quiet = settings.model_copy(update={"webhook_interval_seconds": 0})  # no sender here
    with TestClient(create_app(quiet), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def people(db: Database) -> dict[str, Any]:
    mgr = make_user(db, "mgr")
    ann = make_user(db, "ann")
    aud = make_user(db, "aud", "auditor")
    admin = make_user(db, "root", "admin")
    project = make_project(db, members={mgr: "manager", ann: "annotator", aud: "auditor"})
    return {"mgr": mgr, "ann": ann, "aud": aud, "admin": admin, "project": project}


def rows(db: Database) -> tuple[int, int, int]:
    return count(db, "webhooks"), count(db, "webhook_deliveries"), count(db, "audit_log")


def create(client: TestClient, person: Person, project: int, **body: Any) -> Any:
    payload = {"url": URL, "events": ["item.completed", "model.promoted"], **body}
    return client.post(f"/api/v1/projects/{project}/webhooks", json=payload, headers=person.headers)


def test_create_list_patch_ping_redeliver_delete(
    client: TestClient, db: Database, people: dict[str, Any]
) -> None:
    mgr, project = people["mgr"], people["project"]
    base = f"/api/v1/projects/{project}/webhooks"
    made = create(client, mgr, project)
    assert made.status_code == 201, made.text
    body = made.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_") and len(secret) > 40
    created_at = body.pop("created_at")
    assert body == {
        "id": 1,
        "project_id": project,
        "url": URL,
        "events": ["item.completed", "model.promoted"],
        "active": True,
        "created_by": mgr.id,
    }
    listed = client.get(base, headers=mgr.headers)
    assert listed.status_code == 200
    assert listed.json() == [{**body, "created_at": created_at}]  # never the secret
    assert secret not in listed.text
    paused = client.patch(f"{base}/1", json={"active": False}, headers=mgr.headers)
    assert paused.status_code == 200 and paused.json()["active"] is False
    ping = client.post(f"{base}/1/ping", headers=mgr.headers)
    assert ping.status_code == 202
    delivery = ping.json()
    assert delivery["event"] == "ping" and delivery["status"] == "pending"
    assert delivery["attempts"] == 0 and delivery["webhook_id"] == 1
    assert delivery["payload"]["data"] == {"webhook_id": 1}
    assert delivery["payload"]["id"] == delivery["event_id"]
    log = client.get(f"{base}/deliveries", headers=mgr.headers)
    assert log.status_code == 200
    assert log.json() == {"items": [delivery], "next_before": None}
    again = client.post(
        f"{base}/deliveries/{delivery['delivery_id']}/redeliver", headers=mgr.headers
    )
    assert again.status_code == 202
    assert again.json()["event_id"] == delivery["event_id"]
    assert again.json()["delivery_id"] != delivery["delivery_id"]
    page = client.get(f"{base}/deliveries?limit=1", headers=mgr.headers).json()
    assert page["items"][0]["delivery_id"] == again.json()["delivery_id"]
    assert page["next_before"] is not None
    filtered = client.get(f"{base}/deliveries?status=delivered", headers=mgr.headers)
    assert filtered.json() == {"items": [], "next_before": None}
    # Admins manage every project's webhooks.
    assert client.get(base, headers=people["admin"].headers).status_code == 200
    gone = client.delete(f"{base}/1", headers=mgr.headers)
    assert gone.status_code == 204
    assert rows(db)[:2] == (0, 0)  # its delivery log went with it


def test_unauthenticated_is_401_and_changes_nothing(
    client: TestClient, db: Database, people: dict[str, Any]
) -> None:
    project = people["project"]
    before = rows(db)
    base = f"/api/v1/projects/{project}/webhooks"
    for method, path in [
        ("POST", base),
        ("GET", base),
        ("PATCH", f"{base}/1"),
        ("DELETE", f"{base}/1"),
        ("POST", f"{base}/1/ping"),
        ("GET", f"{base}/deliveries"),
        ("POST", f"{base}/deliveries/{'a' * 32}/redeliver"),
    ]:
        payload: dict[str, Any] | None = {"url": URL, "events": ["item.completed"]}
        if method != "POST":
            payload = {"active": False} if method == "PATCH" else None
        response = client.request(method, path, json=payload)
        assert response.status_code == 401, (method, path)
    assert rows(db) == before


@pytest.mark.parametrize("who", ["ann", "aud"])
def test_other_roles_are_403_and_change_nothing(
    client: TestClient, db: Database, people: dict[str, Any], who: str
) -> None:
    mgr, project = people["mgr"], people["project"]
    assert create(client, mgr, project).status_code == 201
    base = f"/api/v1/projects/{project}/webhooks"
    delivery = client.post(f"{base}/1/ping", headers=mgr.headers).json()["delivery_id"]
    before = rows(db)
    person: Person = people[who]
    responses = [
        create(client, person, project),
        client.get(base, headers=person.headers),
        client.patch(f"{base}/1", json={"active": False}, headers=person.headers),
        client.delete(f"{base}/1", headers=person.headers),
        client.post(f"{base}/1/ping", headers=person.headers),
        client.get(f"{base}/deliveries", headers=person.headers),
        client.post(f"{base}/deliveries/{delivery}/redeliver", headers=person.headers),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert rows(db) == before
    # A manager of another project is refused too.
    other = make_project(db, name="other", members={person: "manager"})
    assert create(client, person, other).status_code == 201
    assert client.get(base, headers=person.headers).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://receiver.example/x"},
        {"url": "file:///etc/passwd"},
        {"url": "javascript:alert(1)"},
        {"url": "receiver.example/no-scheme"},
        {"url": "https:///no-host"},
        {"url": "https://receiver.example/" + "a" * 2000},
        {"url": ""},
        # Not to the server's own network: loopback, metadata, private, in any spelling.
        {"url": "http://127.0.0.1:8000/api/v1/users"},
        {"url": "http://localhost/x"},
        {"url": "http://app.localhost./x"},
        {"url": "http://169.254.169.254/latest/meta-data"},
        {"url": "http://10.0.0.7/x"},
        {"url": "http://[::1]/x"},
        {"url": "http://[::ffff:127.0.0.1]/x"},
        {"url": "http://2130706433/x"},
        {"url": "http://0x7f000001/x"},
        {"url": "http://0/x"},
        {"events": []},
        {"events": ["item.deleted"]},
        {"events": ["ping"]},
        {"secret": "mine"},
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    client: TestClient, db: Database, people: dict[str, Any], body: dict[str, Any]
) -> None:
    before = rows(db)
    response = create(client, people["mgr"], people["project"], **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
    assert rows(db) == before


def test_bad_paths_and_queries_are_404_or_422(
    client: TestClient, db: Database, people: dict[str, Any]
) -> None:
    mgr, project = people["mgr"], people["project"]
    base = f"/api/v1/projects/{project}/webhooks"
    before = rows(db)
    assert client.get(f"{base}/deliveries?limit=0", headers=mgr.headers).status_code == 422
    assert client.get(f"{base}/deliveries?limit=201", headers=mgr.headers).status_code == 422
    assert client.get(f"{base}/deliveries?status=lost", headers=mgr.headers).status_code == 422
    assert (
        client.patch(f"{base}/1", json={"active": "maybe"}, headers=mgr.headers).status_code == 422
    )
    assert (
        client.post(f"{base}/deliveries/not-hex/redeliver", headers=mgr.headers).status_code == 422
    )
    assert client.post(f"{base}/9/ping", headers=mgr.headers).status_code == 404
    assert client.delete(f"{base}/9", headers=mgr.headers).status_code == 404
    assert (
        client.post(f"{base}/deliveries/{'0' * 32}/redeliver", headers=mgr.headers).status_code
        == 404
    )
    assert client.get("/api/v1/projects/999/webhooks", headers=mgr.headers).status_code == 404
    assert rows(db) == before


def test_an_operator_can_allow_an_internal_network(
    settings: Settings, people: dict[str, Any]
) -> None:
    allowed = settings.model_copy(
        update={"webhook_interval_seconds": 0, "webhook_allowed_networks": "10.0.5.0/24"}
    )
    with TestClient(create_app(allowed), raise_server_exceptions=False) as client:
        mgr, project = people["mgr"], people["project"]
        assert create(client, mgr, project, url="http://10.0.5.9/hook").status_code == 201
        assert create(client, mgr, project, url="http://10.0.6.9/hook").status_code == 422
