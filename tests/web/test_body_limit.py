"""Request bodies over their cap (``loupe.web.body_limit``) are a 413 with the API's error
body (or the error page), by ``Content-Length`` or counted while they stream; the hot
path is capped too, nothing is written, and the file imports keep their own limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send
from tests.factories import Person, add_items, make_project, make_user, snapshot
from tests.web.ui.signin import HTML, PASSWORD, give_password, login_token

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.app import create_app
from loupe.web.body_limit import BodyLimit
from loupe.web.hot_path import HotPath

CAP = 4096
BATCH_CAP = 16384
LABELS = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    capped = settings.model_copy(update={"max_body_bytes": CAP, "max_batch_body_bytes": BATCH_CAP})
    with TestClient(create_app(capped), raise_server_exceptions=False) as client:
        yield client


def _json(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON, padded with trailing spaces to exactly ``size`` bytes."""
    data = json.dumps(body).encode()
    assert len(data) <= size
    return data + b" " * (size - len(data))


def _chunks(data: bytes) -> Iterator[bytes]:
    """A generator body: httpx sends it chunked, with no ``Content-Length``."""
    for start in range(0, len(data), 1000):
        yield data[start : start + 1000]


def _assert_413(response: Any, cap: int = CAP, setting: str = "max_body_bytes") -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_bytes": cap, "setting": setting}
    assert f"larger than {cap // 1024} KiB ({cap} bytes)" in error["message"]
    assert f"LOUPE_{setting.upper()}" in error["message"]


def _submit_setup(client: TestClient, db: Database) -> tuple[Person, str]:
    """An annotator holding the lease of item 1: a submit to the URL returned is served."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    served = client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert served.status_code == 200, served.text
    return ann, f"/api/v1/projects/{project}/items/{served.json()['task']['item_id']}/labels"


def test_the_limit_wraps_the_hot_path(settings: Settings) -> None:
    # add_middleware puts the latest first: the outermost layer.
    classes = [m.cls for m in create_app(settings).user_middleware]
    assert classes.index(BodyLimit) < classes.index(HotPath)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_submit_is_413_and_writes_nothing(
    client: TestClient, db: Database, chunked: bool
) -> None:
    ann, url = _submit_setup(client, db)
    before = snapshot(db)
    body = _json({"answer": "call"}, CAP + 1)
    headers = {**ann.headers, "Content-Type": "application/json"}
    response = client.post(url, content=_chunks(body) if chunked else body, headers=headers)
    assert ("content-length" in response.request.headers) is not chunked
    _assert_413(response)
    assert snapshot(db) == before
    # At the cap, the same submit (the hot path's plain form) is taken.
    response = client.post(url, content=_json({"answer": "call"}, CAP), headers=headers)
    assert response.status_code == 201, response.text
    assert snapshot(db)["labels"] == before["labels"] + 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_json_body_is_413_and_writes_nothing(
    client: TestClient, db: Database, chunked: bool
) -> None:
    admin = make_user(db, "admin", "admin")
    before = snapshot(db)
    project = {"name": "big", "config": LABELS, "description": "x" * CAP}
    body = json.dumps(project).encode()
    headers = {**admin.headers, "Content-Type": "application/json"}
    response = client.post(
        "/api/v1/projects", content=_chunks(body) if chunked else body, headers=headers
    )
    _assert_413(response)
    assert "send less in one request" in response.json()["error"]["message"]
    assert snapshot(db) == before
    # The same keep-alive client goes on working, and a body at the cap is taken.
    body = _json({"name": "fits", "config": LABELS}, CAP)
    response = client.post("/api/v1/projects", content=body, headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_sign_in_form_is_413_as_a_page_and_signs_nobody_in(
    client: TestClient, db: Database, chunked: bool
) -> None:
    ann = make_user(db, "ann")
    give_password(db, ann)
    fields = {"username": ann.username, "password": PASSWORD, "csrf_token": login_token(client)}
    before = snapshot(db)

    def form(size: int) -> bytes:
        data = urlencode({**fields, "pad": ""}).encode()
        return data + b"x" * (size - len(data))

    headers = {**HTML, "Content-Type": "application/x-www-form-urlencoded"}
    body = form(CAP + 1)
    response = client.post(
        "/login",
        content=_chunks(body) if chunked else body,
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than 4 KiB (4096 bytes)" in response.text
    assert "loupe_session" not in response.cookies
    assert snapshot(db) == before
    # Without text/html (a script), the same refusal is the JSON error body.
    response = client.post(
        "/login", content=body, headers={"Content-Type": headers["Content-Type"]}
    )
    _assert_413(response)
    response = client.post("/login", content=form(CAP), headers=headers, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_batches_have_their_own_allowance(client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    url = f"/api/v1/projects/{project}/items"
    headers = {**manager.headers, "Content-Type": "application/json"}
    items = [{"id": str(i), "text": f"utterance {i} " + "x" * 100} for i in range(60)]
    body = _json({"items": items}, BATCH_CAP)
    response = client.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text  # over max_body_bytes, within the batch cap
    assert response.json()["created"] == 60
    before = snapshot(db)
    response = client.post(url, content=body + b" ", headers=headers)
    _assert_413(response, BATCH_CAP, "max_batch_body_bytes")
    assert "smaller parts" in response.json()["error"]["message"]
    assert snapshot(db) == before


def test_file_imports_keep_their_own_limit(client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    rows = "".join(
        json.dumps({"id": f"r{i}", "text": f"row {i} " + "y" * 200}) + "\n" for i in range(100)
    )
    assert len(rows) > BATCH_CAP
    response = client.post(
        f"/api/v1/projects/{project}/items/import",
        content=_chunks(rows.encode()),
        headers={**manager.headers, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 100
    # The multipart upload is read whole by its route (here its own 422: the rows name no
    # image files; images need the `images` extra), not refused by the body limit.
    response = client.post(
        f"/api/v1/projects/{project}/items/upload",
        files=[("items", ("items.jsonl", rows.encode(), "application/x-ndjson"))],
        headers=manager.headers,
    )
    assert int(response.request.headers["content-length"]) > BATCH_CAP
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == {"field": "files"}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_file_imports_over_their_own_limit_are_413_and_write_nothing(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch, chunked: bool
) -> None:
    """One error for every body over a limit: the file imports' own cap is a 413
    ``payload_too_large`` too (it was a 422), with ``details.max_bytes``."""
    limit = 2048
    monkeypatch.setattr("loupe.web.api.items.MAX_UPLOAD_BYTES", limit)
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    rows = "".join(json.dumps({"id": f"r{i}", "text": "y" * 100}) + "\n" for i in range(30))
    assert limit < len(rows) < CAP  # over the import's limit only
    before = snapshot(db)
    response = client.post(
        f"/api/v1/projects/{project}/items/import",
        content=_chunks(rows.encode()) if chunked else rows.encode(),
        headers={**manager.headers, "Content-Type": "application/x-ndjson"},
    )
    responses = [response]
    if not chunked:  # the multipart upload needs a Content-Length
        responses.append(
            client.post(
                f"/api/v1/projects/{project}/items/upload",
                files=[("items", ("items.jsonl", rows.encode(), "application/x-ndjson"))],
                headers=manager.headers,
            )
        )
    for response in responses:
        assert response.status_code == 413, response.text
        error = response.json()["error"]
        assert error["code"] == "payload_too_large"
        assert error["details"] == {"max_bytes": limit}
        assert f"larger than {limit} bytes" in error["message"]
        assert "split the file" in error["message"]
    assert snapshot(db) == before


async def _run(app: Any, chunks: int, content_length: bool = False) -> tuple[int, list[Message]]:
    """Drive ``BodyLimit(app)`` with a body of ``chunks`` 1 KiB chunks; how many it pulled."""
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": pulled < chunks}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"content-length", str(chunks * 1024).encode())] if content_length else []
    scope = {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": headers,
             "query_string": b"", "root_path": ""}  # fmt: skip
    limited = BodyLimit(app, max_body_bytes=CAP, max_batch_body_bytes=BATCH_CAP)
    await limited(scope, receive, send)
    return pulled, sent


async def _reads_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await JSONResponse({"read": len(body)})(scope, receive, send)


async def _answers_its_own_error(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        body = await Request(scope, receive).body()
    except Exception:  # what FastAPI does with a failed body read: a 400
        await JSONResponse({"error": "bad body"}, status_code=400)(scope, receive, send)
        return
    await JSONResponse({"read": len(body)})(scope, receive, send)


@pytest.mark.parametrize("app", [_reads_body, _answers_its_own_error])
def test_a_stream_is_cut_at_the_cap_and_answered_once(app: Any) -> None:
    pulled, sent = asyncio.run(_run(app, chunks=1000))
    assert pulled == CAP // 1024 + 1  # the chunk that crosses the cap, and no more
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
    # A Content-Length over the cap: refused before one byte is read.
    pulled, sent = asyncio.run(_run(app, chunks=1000, content_length=True))
    assert pulled == 0
    assert sent[0]["status"] == 413
    # Under the cap, the app reads and answers as ever.
    pulled, sent = asyncio.run(_run(app, chunks=CAP // 1024))
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"read": CAP}
