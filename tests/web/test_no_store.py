"""API answers carry ``Cache-Control: no-store`` and ``nosniff`` unless they say otherwise."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from tests.factories import add_items, make_project, make_user

from loupe.db.database import Database
from loupe.web.no_store import NoStore


def test_api_answers_are_not_stored(app_client: TestClient, db: Database) -> None:
    manager, annotator = make_user(db, "mgr"), make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    add_items(db, project, 1)
    # The hot path (next task), an ordinary route, an error and a refusal without a token.
    answers = [
        app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers),
        app_client.get(f"/api/v1/projects/{project}", headers=manager.headers),
        app_client.get("/api/v1/projects/999999", headers=manager.headers),
        app_client.get(f"/api/v1/projects/{project}"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 401]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_response_that_sets_its_own_caching_keeps_it() -> None:
    async def media(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"cache-control", b"private, max-age=60")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    for path in ("/api/v1/media/x", "/projects/1"):
        sent.clear()
        scope: Scope = {"type": "http", "path": path, "headers": []}
        asyncio.run(NoStore(media)(scope, receive, send))
        headers = dict(sent[0]["headers"])
        assert headers[b"cache-control"] == b"private, max-age=60"
        assert (b"x-content-type-options" in headers) == path.startswith("/api/")
