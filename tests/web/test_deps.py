"""The request's transaction: a write commits in the thread pool, never on the event loop."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import SCHEMA, commits_on_event_loop, make_user

from loupe.db.database import Database


def test_a_write_through_a_route_commits_off_the_event_loop(
    app_client: TestClient, db: Database
) -> None:
    """Regression (#18): the ``Writer`` dependency was an async generator, so its exit —
    the commit, an fsync with SQLite's synchronous=FULL — ran on the event loop and
    stalled every other connection while it lasted."""
    manager = make_user(db, "mgr", "manager")
    with commits_on_event_loop(app_client.app.state.db) as on_loop:  # type: ignore[attr-defined]
        body = {"name": "glasses", "config": SCHEMA, "overlap": 1}
        created = app_client.post("/api/v1/projects", json=body, headers=manager.headers)
    assert created.status_code == 201, created.text
    assert on_loop and not any(on_loop), on_loop
