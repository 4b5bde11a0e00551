"""The request's transaction: a write commits in the thread pool, never on the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.factories import SCHEMA, make_user

from loupe.db.database import Database


def test_a_write_through_a_route_commits_off_the_event_loop(
    app_client: TestClient, db: Database
) -> None:
    """Regression (#18): the ``Writer`` dependency was an async generator, so its exit —
    the commit, an fsync with SQLite's synchronous=FULL — ran on the event loop and
    stalled every other connection while it lasted."""
    manager = make_user(db, "mgr", "manager")
    on_loop: list[bool] = []

    def record(_connection: Any) -> None:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)

    engine = app_client.app.state.db.engine  # type: ignore[attr-defined]
    event.listen(engine, "commit", record)
    try:
        body = {"name": "glasses", "config": SCHEMA, "overlap": 1}
        created = app_client.post("/api/v1/projects", json=body, headers=manager.headers)
    finally:
        event.remove(engine, "commit", record)
    assert created.status_code == 201, created.text
    assert on_loop and not any(on_loop), on_loop
