from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.factories import count, make_project, make_user, snapshot
from tests.services.import_probe import ProbeGate

from loupe.db.database import Database


def test_add_items_is_idempotent_by_id(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    rows = [
        {
            "id": "a",
            "text": "call mum",
            "language": "en",
            "domain": "general",
            "metadata": {"k": 1},
        },
        {"id": 2, "text": "play jazz", "source": "glasses"},
    ]
    url = f"/api/v1/projects/{project}/items"
    first = app_client.post(url, json={"items": rows}, headers=manager.headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 2, "created": 2, "existing": 0, "withheld": 0}
    again = app_client.post(url, json={"items": rows}, headers=manager.headers)
    assert again.json() == {"received": 2, "created": 0, "existing": 2, "withheld": 0}
    page = app_client.get(url, headers=manager.headers).json()
    assert page["next_after"] is None
    first_item = page["items"][0]
    assert first_item["external_id"] == "a"
    assert first_item["metadata"] == {"k": 1}
    assert first_item["data"] == {"text": "call mum"}
    assert page["items"][1]["data"] == {"text": "play jazz", "source": "glasses"}
    one = app_client.get(f"{url}/{first_item['id']}", headers=manager.headers)
    assert one.json()["external_id"] == "a"


def test_a_bad_row_imports_nothing(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    before = snapshot(db)
    rows = [{"id": "ok", "text": "fine"}, {"id": "bad", "text": ""}]
    response = app_client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=manager.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("items[1]: field 'text'")
    bad_domain = [{"id": "x", "text": "t", "domain": "Not A Tag"}]
    response = app_client.post(
        f"/api/v1/projects/{project}/items", json={"items": bad_domain}, headers=manager.headers
    )
    assert response.status_code == 422
    assert snapshot(db) == before


def test_a_domain_holding_personal_data_is_422_and_imports_nothing(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    before = snapshot(db)
    rows = [
        {"id": "ok", "text": "fine", "domain": "customer-support"},
        {"id": "bad", "text": "fine", "domain": "calls-ana-ruiz-447946095800"},
    ]
    url = f"/api/v1/projects/{project}/items"
    added = app_client.post(url, json={"items": rows}, headers=manager.headers)
    jsonl = "".join(json.dumps(row) + "\n" for row in rows).encode()
    headers = {**manager.headers, "Content-Type": "application/x-ndjson"}
    uploaded = app_client.post(f"{url}/import", content=jsonl, headers=headers)
    for response, where in [(added, "items[1]"), (uploaded, "upload: line 2")]:
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["message"] == (
            f"{where}: domain holds what looks like personal data (PERSON, PHONE), "
            "not a category; use a tag such as 'medical'"
        )
        assert (error["details"]["field"], error["details"]["detected"]) == (
            "domain",
            ["PERSON", "PHONE"],
        )
    assert snapshot(db) == before
    good = app_client.post(url, json={"items": rows[:1]}, headers=manager.headers)
    assert good.status_code == 200, good.text
    item = app_client.get(url, headers=manager.headers).json()["items"][0]
    assert (item["external_id"], item["domain"]) == ("ok", "customer-support")


def test_items_need_rights(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    body = {"items": [{"id": "a", "text": "x"}]}
    before = snapshot(db)
    url = f"/api/v1/projects/{project}/items"
    assert app_client.post(url, json=body).status_code == 401
    assert app_client.post(url, json=body, headers=annotator.headers).status_code == 403
    # Annotators see their next task, not the whole item list.
    assert app_client.get(url, headers=annotator.headers).status_code == 403
    assert snapshot(db) == before


def test_file_upload_jsonl_and_csv(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    url = f"/api/v1/projects/{project}/items/import"
    jsonl = b'{"id": "1", "text": "call Bo"}\n\n{"id": "2", "text": "navigate home"}\n'
    response = app_client.post(
        url, content=jsonl, headers={**manager.headers, "Content-Type": "application/x-ndjson"}
    )
    assert response.json() == {"received": 2, "created": 2, "existing": 0, "withheld": 0}
    csv_body = 'id,text,language,metadata\n2,navigate home,en,\n3,"snap, a photo",fr,"{""a"": 1}"\n'
    response = app_client.post(
        url, content=csv_body.encode(), headers={**manager.headers, "Content-Type": "text/csv"}
    )
    assert response.json() == {"received": 2, "created": 1, "existing": 1, "withheld": 0}
    assert count(db, "items") == 3


def test_file_upload_errors_name_the_line(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    url = f"/api/v1/projects/{project}/items/import"
    before = snapshot(db)
    body = b'{"id": "1", "text": "ok"}\n{"id": "2", "text": \n'
    response = app_client.post(
        url, content=body, headers={**manager.headers, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("upload: line 2: not valid JSON")
    latin1 = '{"id": "1", "text": "caf\xe9"}\n'.encode("latin-1")
    response = app_client.post(
        url, content=latin1, headers={**manager.headers, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 422
    assert "UTF-8" in response.json()["error"]["message"]
    wrong = app_client.post(
        url, content=b"x", headers={**manager.headers, "Content-Type": "image/png"}
    )
    assert wrong.status_code == 422
    assert snapshot(db) == before


def test_file_upload_json_array(app_client: TestClient, db: Database) -> None:
    """Regression (#19): a JSON array upload was refused with 422 as not JSON Lines."""
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    url = f"/api/v1/projects/{project}/items/import"
    body = b' [\n {"id": "1", "text": "call Bo"},\n {"id": "2", "text": "navigate home"}\n]\n'
    for content_type in ("application/json", "application/x-ndjson"):
        response = app_client.post(
            url, content=body, headers={**manager.headers, "Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
    assert response.json() == {"received": 2, "created": 0, "existing": 2, "withheld": 0}
    page = app_client.get(f"/api/v1/projects/{project}/items", headers=manager.headers).json()
    assert [item["external_id"] for item in page["items"]] == ["1", "2"]
    assert page["items"][1]["data"] == {"text": "navigate home"}


def test_json_array_upload_is_all_or_nothing_by_index(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    url = f"/api/v1/projects/{project}/items/import"
    json_headers = {**manager.headers, "Content-Type": "application/json"}
    before = snapshot(db)
    cases = {
        b'[{"id": "1", "text": "ok"}, {"id": "2", "text": ""}]': "upload: index 1: field 'text'",
        b'[{"id": "1", "text": "ok"}, 7]': "upload: index 1: expected a JSON object",
        b'[{"id": "1", "text": "ok"},]': "upload: index 1: not valid JSON",
        b'[{"id": "1", "text": "ok"} {"id": "2"}]': "upload: index 1: expected ','",
        b'[{"id": "1", "text": "ok"}': "upload: the JSON array is not closed",
        b'[{"id": "1", "text": "ok"}] []': "upload: text after the JSON array",
    }
    for body, message in cases.items():
        response = app_client.post(url, content=body, headers=json_headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["message"].startswith(message), response.text
    good = b'[{"id": "1", "text": "ok"}]'
    assert app_client.post(url, content=good).status_code == 401
    denied = {**annotator.headers, "Content-Type": "application/json"}
    assert app_client.post(url, content=good, headers=denied).status_code == 403
    assert snapshot(db) == before


def _probe(monkeypatch: pytest.MonkeyPatch, db: Database) -> ProbeGate:
    gate = ProbeGate(db)
    monkeypatch.setattr("loupe.web.api.items.gate_for", lambda *_a, **_k: gate)
    monkeypatch.setattr("loupe.services.projects.imports.BATCH_SIZE", 2)
    monkeypatch.setattr("loupe.services.projects.imports.GATE_CHUNK", 2)
    return gate


def test_an_upload_gates_outside_the_writer_and_commits_each_batch(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    gate = _probe(monkeypatch, db)
    body = "".join(f'{{"id": "r{i}", "text": "call {i}"}}\n' for i in range(5))
    response = app_client.post(
        f"/api/v1/projects/{project}/items/import", content=body, headers=manager.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 5, "created": 5, "existing": 0, "withheld": 0}
    # The old upload gated inside one transaction that committed at the end.
    assert gate.seen == [(True, 0), (True, 2), (True, 4)]


def test_a_json_batch_gates_outside_the_writer_and_commits_each_batch(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    gate = _probe(monkeypatch, db)
    rows = [{"id": f"r{i}", "text": f"call {i}"} for i in range(3)]
    response = app_client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=manager.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 3, "created": 3, "existing": 0, "withheld": 0}
    assert gate.seen == [(True, 0), (True, 2)]
    again = app_client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=manager.headers
    )
    assert again.json() == {"received": 3, "created": 0, "existing": 3, "withheld": 0}


def test_an_annotator_cannot_import_and_nothing_is_gated(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    gate = _probe(monkeypatch, db)
    before = snapshot(db)
    response = app_client.post(
        f"/api/v1/projects/{project}/items/import",
        content='{"id": "a", "text": "x"}\n',
        headers=annotator.headers,
    )
    assert response.status_code == 403
    assert gate.seen == []
    assert snapshot(db) == before
