"""The background retention run: every ``retention_interval_seconds`` the server purges
items older than their project's ``retention_days``
(:func:`loupe.services.compliance.retention.run_retention`).

The first run comes a minute after start-up (or after one interval, if shorter), so a
server that restarts often still purges. Each run is one write transaction, attributed
to ``system`` in the audit log. Several server workers may each run it: a purge that
finds the items already gone deletes nothing and records nothing.
"""

from __future__ import annotations

import asyncio
import logging

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.compliance.retention import RetentionRun, run_retention
from loupe.web.threads import finish_in_thread

__all__ = ["FIRST_RUN_AFTER", "purge_expired", "retention_loop"]

log = logging.getLogger("loupe.retention")

FIRST_RUN_AFTER = 60.0  # seconds after start-up


def purge_expired(db: Database) -> RetentionRun:
    """Run every project's retention policy once, in one transaction."""
    with db.transaction() as session:
        run = run_retention(session, Actor.system())
    for purge in run.purges:
        log.info(
            "retention purged %s items of project %s (older than %s days)",
            purge.items_deleted,
            purge.project_id,
            purge.retention_days,
        )
    return run


async def retention_loop(db: Database, interval: float) -> None:
    delay = min(interval, FIRST_RUN_AFTER)
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            await finish_in_thread(purge_expired, db)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("background retention run failed")
