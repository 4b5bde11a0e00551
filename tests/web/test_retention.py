"""The server's background retention run (``retention_interval_seconds``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.factories import add_items, count, make_project

from loupe.db.database import Database
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import AuditEvent
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.settings import Settings
from loupe.web.app import create_app
from loupe.web.retention import purge_expired, retention_loop


def _expired_project(db: Database, *, keep: int = 2, old: int = 3) -> int:
    project = make_project(db)
    add_items(db, project, old)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, retention_days=30)
        session.execute(update(Item).values(created_at=utcnow() - timedelta(days=31)))
    add_items(db, project, keep, start=old)
    return project


def test_purge_expired_deletes_old_items_and_audits_as_system(db: Database) -> None:
    project = _expired_project(db)
    run = purge_expired(db)
    assert run.items_deleted == 3
    assert count(db, "items") == 2
    with db.transaction(readonly=True) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).one()
        assert (event.actor, event.project_id, event.details["items"]) == ("system", project, 3)
    assert purge_expired(db).items_deleted == 0  # nothing left to purge, nothing recorded


def test_the_loop_purges_on_its_own(db: Database) -> None:
    _expired_project(db)

    async def run_until_purged() -> None:
        loop = asyncio.create_task(retention_loop(db, 0.01))
        for _ in range(1_000):  # bounded: gives up rather than hangs
            await asyncio.sleep(0.01)
            if count(db, "items") == 2:
                break
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    asyncio.run(run_until_purged())
    assert count(db, "items") == 2


def test_the_server_runs_retention_in_the_background(settings: Settings, db: Database) -> None:
    _expired_project(db)
    quick = settings.model_copy(update={"retention_interval_seconds": 0.01})
    with TestClient(create_app(quick)):
        # Until the background run has purged (the test's overall timeout bounds it).
        while count(db, "items") != 2:
            time.sleep(0.01)
    assert count(db, "items") == 2


def test_an_interval_of_zero_turns_the_background_run_off(settings: Settings, db: Database) -> None:
    _expired_project(db)
    off = settings.model_copy(update={"retention_interval_seconds": 0})
    with TestClient(create_app(off)) as client:
        assert client.get("/api/v1/health").status_code == 200
    assert count(db, "items") == 5
