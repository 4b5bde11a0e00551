"""The annotator's hot path (``loupe.web.hot_path``) answers as the FastAPI routes do."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.factories import (
    add_items,
    commits_on_event_loop,
    durable_writes,
    make_project,
    make_user,
    snapshot,
)

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.api import tasks as api_tasks
from loupe.web.app import create_app
from loupe.web.hot_path import HotPath

_TIME = re.compile(rb'"\d{4}-\d\d-\d\dT[^"]*"')


def _app(template: Path, where: Path, *, hot: bool) -> FastAPI:
    where.mkdir()
    shutil.copy(template, where / "loupe.db")
    app = create_app(
        Settings(
            database_url=f"sqlite:///{where / 'loupe.db'}",
            key_dir=where / "keys",
            model_dir=where / "models",
            media_dir=where / "media",
            refit_interval_seconds=0,
        )
    )
    if not hot:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HotPath]
    return app


def _script(client: TestClient, db: Database) -> Iterator[tuple[str, Any]]:
    """The same requests, in the same order, against a fresh database."""
    ann = make_user(db, "ann")
    outsider = make_user(db, "outsider")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 2)
    api = f"/api/v1/projects/{project}"
    json_body = {**ann.headers, "Content-Type": "application/json"}

    def post(name: str, url: str, **kwargs: Any) -> tuple[str, Any]:
        return name, client.post(url, **kwargs)

    yield post("next", f"{api}/tasks/next", headers=ann.headers)
    yield post("next again", f"{api}/tasks/next", headers=ann.headers)
    yield post("next, query", f"{api}/tasks/next?x=1", headers=ann.headers)
    yield post("next, NUL body", f"{api}/tasks/next", content=b'{"x": "\\u0000"}',
               headers=json_body)  # fmt: skip
    yield post("next, no token", f"{api}/tasks/next")
    yield post("next, bad token", f"{api}/tasks/next", headers={"Authorization": "Bearer lp_x"})
    yield post("next, basic", f"{api}/tasks/next", headers={"Authorization": "Basic eDp5"})
    yield post("next, outsider", f"{api}/tasks/next", headers=outsider.headers)
    yield post("next, no project", "/api/v1/projects/9999/tasks/next", headers=ann.headers)
    yield post("next, huge id", "/api/v1/projects/99999999999/tasks/next", headers=ann.headers)
    labels = f"{api}/items/1/labels"
    yield post("submit, bad answer", labels, json={"answer": "dance"}, headers=ann.headers)
    yield post("submit, extra field", labels, json={"answer": "call", "x": 1}, headers=ann.headers)
    yield post("submit, no answer", labels, json={}, headers=ann.headers)
    yield post("submit, lead -1", labels, json={"answer": "call", "lead_time_ms": -1},
               headers=ann.headers)  # fmt: skip
    yield post("submit, NUL", labels, content=b'{"answer": "c\\u0000"}', headers=json_body)
    yield post("submit, bad JSON", labels, content=b'{"answer": ', headers=json_body)
    yield post("submit, text/plain", labels, content=b'{"answer": "call"}',
               headers={**ann.headers, "Content-Type": "text/plain"})  # fmt: skip
    yield post("submit, outsider", labels, json={"answer": "call"}, headers=outsider.headers)
    yield post("submit, no item", f"{api}/items/9999/labels", json={"answer": "call"},
               headers=ann.headers)  # fmt: skip
    yield post("submit", labels, json={"answer": "call", "lead_time_ms": 900}, headers=ann.headers)
    yield post("submit again", labels, json={"answer": "call"}, headers=ann.headers)
    yield post("submit, changed", labels, json={"answer": "music"}, headers=ann.headers)
    yield post("submit, no lease", f"{api}/items/2/labels", json={"answer": "call"},
               headers=ann.headers)  # fmt: skip
    yield post("next 2", f"{api}/tasks/next", headers=ann.headers)
    yield post("submit 2", f"{api}/items/2/labels", json={"answer": ["call"]}, headers=ann.headers)
    yield post("submit 2, charset", f"{api}/items/2/labels", content=b'{"answer": "navigate"}',
               headers={**ann.headers, "Content-Type": "application/json; charset=utf-8"})  # fmt: skip
    yield post("next, none left", f"{api}/tasks/next", headers=ann.headers)
    yield "rows", snapshot(db)


def _seen(response: Any) -> Any:
    if isinstance(response, dict):
        return response
    headers = sorted((k, v) for k, v in response.headers.items() if k != "content-length")
    return response.status_code, headers, _TIME.sub(b'"<time>"', response.content)


def test_hot_path_answers_as_the_routes_do(sqlite_template: Path, tmp_path: Path) -> None:
    seen: dict[bool, list[tuple[str, Any]]] = {}
    for hot in (True, False):
        app = _app(sqlite_template, tmp_path / str(hot), hot=hot)
        with TestClient(app, raise_server_exceptions=False) as client:
            seen[hot] = [(name, _seen(r)) for name, r in _script(client, app.state.db)]
    assert [name for name, _ in seen[True]] == [name for name, _ in seen[False]]
    for (name, hot), (_, routed) in zip(seen[True], seen[False], strict=True):
        assert hot == routed, name
    statuses = {name: r[0] for name, r in seen[True] if name != "rows"}
    assert statuses["submit"] == 201
    assert statuses["submit again"] == 200
    assert statuses["next, bad token"] == 401
    assert statuses["next, NUL body"] == 422


def test_next_task_and_submit_commit_off_the_event_loop(
    app_client: TestClient, db: Database
) -> None:
    """The commit (an fsync with SQLite's synchronous=FULL) must not stall the event loop."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    with commits_on_event_loop(app_client.app.state.db) as on_loop:  # type: ignore[attr-defined]
        api = f"/api/v1/projects/{project}"
        task = app_client.post(f"{api}/tasks/next", headers=ann.headers).json()["task"]
        submitted = app_client.post(
            f"{api}/items/{task['item_id']}/labels", json={"answer": "call"}, headers=ann.headers
        )
        assert submitted.status_code == 201
    assert on_loop == [False, False]


@pytest.mark.parametrize("query", ["", "?via=route"], ids=["hot path", "route"])
def test_only_the_lease_is_committed_without_a_sync(
    app_client: TestClient, db: Database, query: str
) -> None:
    """A power cut may lose a lease (the item returns to the queue), never a label."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    api = f"/api/v1/projects/{project}"
    with durable_writes(app_client.app.state.db) as durable:  # type: ignore[attr-defined]
        task = app_client.post(f"{api}/tasks/next{query}", headers=ann.headers).json()["task"]
        submitted = app_client.post(
            f"{api}/items/{task['item_id']}/labels{query}",
            json={"answer": "call"},
            headers=ann.headers,
        )
        assert submitted.status_code == 201
    assert durable == [False, True]


def test_sqlite_serves_them_one_thread_at_a_time(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SQLite each holds the one writer, so more threads would only contend for it;
    PostgreSQL serves them side by side."""
    ann = [make_user(db, f"ann{i}") for i in range(3)]
    project = make_project(db, members=dict.fromkeys(ann, "annotator"))
    add_items(db, project, 3)
    guard, together = threading.Lock(), threading.Event()
    running, most = 0, 0
    real = api_tasks.next_task

    def waiting(project_id: int, ctx: Any) -> Any:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
            if running > 1:
                together.set()
        # Side by side, the next request arrives at once; one at a time, it never does.
        together.wait(timeout=1.0)
        with guard:
            running -= 1
        return real(project_id, ctx)

    monkeypatch.setattr(api_tasks, "next_task", waiting)
    app = create_app(settings)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            url = f"/api/v1/projects/{project}/tasks/next"
            replies = await asyncio.gather(*(client.post(url, headers=a.headers) for a in ann))
        return [r.status_code for r in replies]

    assert asyncio.run(main()) == [200] * 3
    assert (most == 1) is (db.engine.dialect.name == "sqlite")


@pytest.mark.parametrize(
    "path", ["/api/v1/projects/1/tasks/next", "/api/v1/projects/1/items/1/labels"]
)
def test_hot_routes_still_exist_for_the_contract(app_client: TestClient, path: str) -> None:
    """The routes stay in the API (OpenAPI, the cookie path, refusals)."""
    spec = app_client.get("/api/v1/openapi.json").json()
    template = path.replace("/1/", "/{project_id}/", 1).replace("/items/1/", "/items/{item_id}/")
    assert "post" in spec["paths"][template]
