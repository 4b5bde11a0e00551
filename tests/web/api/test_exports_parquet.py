"""``GET /export?format=parquet`` and Parquet uploads to ``/items/import``."""

from __future__ import annotations

import io
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from tests.factories import count, hold, make_project, make_user, snapshot

from loupe.db.database import Database
from loupe.formats_parquet import MEDIA_TYPE, export_rows

ROWS = [
    {"id": "a", "text": "mail ann.lee@example.com please", "n": 1},
    {"id": "b", "text": "play music", "metadata": {"prediction": "music"}},
    {"id": "c", "text": "call mum", "nested": {"k": [1, None]}},
]


def _project(app_client: TestClient, db: Database) -> tuple[int, dict[str, str], dict[str, str]]:
    """A project with items imported through the API (the privacy gate on) and two labels;
    returns it, a manager's headers and an annotator's."""
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    manager = make_user(db, "mgr", "manager")
    project = make_project(
        db, overlap=2, members={ann: "annotator", bob: "annotator", manager: "manager"}
    )
    added = app_client.post(
        f"/api/v1/projects/{project}/items", json={"items": ROWS}, headers=manager.headers
    )
    assert added.status_code == 200, added.text
    for person, answer in [(ann, "call"), (bob, "music")]:
        hold(db, person, project, 3)
        labelled = app_client.post(
            f"/api/v1/projects/{project}/items/3/labels",
            json={"answer": answer},
            headers=person.headers,
        )
        assert labelled.status_code in (200, 201), labelled.text
    return project, manager.headers, ann.headers


def test_parquet_export_is_the_jsonl_export(app_client: TestClient, db: Database) -> None:
    project, headers, _ = _project(app_client, db)
    url = f"/api/v1/projects/{project}/export"
    response = app_client.get(f"{url}?format=parquet", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    assert f'filename="project-{project}-items.parquet"' in response.headers["content-disposition"]
    jsonl = [json.loads(line) for line in app_client.get(url, headers=headers).text.splitlines()]
    assert list(export_rows(io.BytesIO(response.content))) == jsonl
    # What the gate stored, never the original: the same redaction as JSONL.
    assert b"ann.lee@example.com" not in response.content
    assert "ann.lee@example.com" not in json.dumps(jsonl)
    table = pq.read_table(io.BytesIO(response.content))
    third = table.to_pylist()[2]
    assert third["id"] == "c"
    assert third["distribution"] == '{"call":1,"music":1}'
    assert third["entropy"] == 1.0
    assert sorted(label["answer"] for label in third["labels"]) == ["call", "music"]


def test_parquet_export_errors_change_nothing(app_client: TestClient, db: Database) -> None:
    project, headers, annotator = _project(app_client, db)
    url = f"/api/v1/projects/{project}/export"
    before = snapshot(db)
    assert app_client.get(f"{url}?format=parquet").status_code == 401
    assert app_client.get(f"{url}?format=parquet", headers=annotator).status_code == 403
    for kind in ("labels", "consensus"):
        refused = app_client.get(f"{url}?format=parquet&kind={kind}", headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["details"] == {"field": "kind", "allowed": ["items"]}
    assert snapshot(db) == before  # not even an audit entry


def test_parquet_export_without_the_extra_is_422(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, headers, _ = _project(app_client, db)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    before = snapshot(db)
    response = app_client.get(f"/api/v1/projects/{project}/export?format=parquet", headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert "pip install 'loupe[parquet]'" in error["message"]
    assert error["details"] == {"field": "format", "extra": "parquet"}
    assert snapshot(db) == before
    upload = app_client.post(
        f"/api/v1/projects/{project}/items/import",
        content=b"PAR1",
        headers=headers | {"Content-Type": MEDIA_TYPE},
    )
    assert upload.status_code == 422
    assert snapshot(db) == before


def _file(rows: list[dict[str, object]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def test_parquet_upload_round_trips_an_export(app_client: TestClient, db: Database) -> None:
    project, headers, annotator = _project(app_client, db)
    exported = app_client.get(f"/api/v1/projects/{project}/export?format=parquet", headers=headers)
    manager = make_user(db, "boss", "manager")
    copy = make_project(db, name="copy", members={manager: "manager"})
    url = f"/api/v1/projects/{copy}/items/import"
    upload = {
        "content": exported.content,
        "headers": manager.headers | {"Content-Type": MEDIA_TYPE},
    }
    before = snapshot(db)
    assert app_client.post(url, content=exported.content).status_code == 401
    forbidden = app_client.post(
        url, content=exported.content, headers=annotator | {"Content-Type": MEDIA_TYPE}
    )
    assert forbidden.status_code == 403
    bad = app_client.post(
        url,
        content=_file([{"id": "x", "text": "fine"}, {"id": "y", "text": ""}]),
        headers=manager.headers | {"Content-Type": MEDIA_TYPE},
    )
    assert bad.status_code == 422
    assert "upload: row 2: field 'text'" in bad.json()["error"]["message"]
    garbage = app_client.post(
        url, content=b"not parquet", headers=manager.headers | {"Content-Type": MEDIA_TYPE}
    )
    assert garbage.status_code == 422
    assert "not a Parquet file" in garbage.json()["error"]["message"]
    assert snapshot(db) == before

    done = app_client.post(url, **upload)  # type: ignore[arg-type]
    assert done.status_code == 200, done.text
    assert done.json() == {"received": 3, "created": 3, "existing": 0, "withheld": 0}
    again = app_client.post(url, **upload)  # type: ignore[arg-type]
    assert again.json() == {"received": 3, "created": 0, "existing": 3, "withheld": 0}
    assert count(db, "items") == 6

    def items(project_id: int, reader: dict[str, str]) -> list[tuple[str, object, object]]:
        rows = app_client.get(f"/api/v1/projects/{project_id}/export", headers=reader).text
        return [
            (row["id"], row["data"], row["metadata"]) for row in map(json.loads, rows.splitlines())
        ]

    assert items(copy, manager.headers) == items(project, headers)
