"""The background retry of withheld items: every ``gate_retry_interval_seconds`` the
server gates withheld items again and releases those that now pass
(:func:`loupe.services.compliance.withheld.retry_withheld`).

Like the retention run, the first run comes a minute after start-up, each run is one
write transaction attributed to ``system``, and several server workers may each run it:
an item another worker released is no longer withheld and is not looked at again.
"""

from __future__ import annotations

import asyncio
import logging

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.withheld import RetryRun, retry_withheld
from loupe.settings import Settings
from loupe.web.retention import FIRST_RUN_AFTER
from loupe.web.threads import finish_in_thread

__all__ = ["gate_retry_loop", "retry_once"]

log = logging.getLogger("loupe.gate")


def retry_once(db: Database, settings: Settings) -> RetryRun:
    """Gate every project's withheld items again, in one transaction."""
    with gate_for(settings) as gate, db.transaction() as session:
        run = retry_withheld(session, Actor.system(), gate)
    for project_id, released in run.by_project.items():
        log.info("privacy gate released %s withheld items of project %s", released, project_id)
    return run


async def gate_retry_loop(db: Database, settings: Settings) -> None:
    interval = settings.gate_retry_interval_seconds
    delay = min(interval, FIRST_RUN_AFTER)
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            await finish_in_thread(retry_once, db, settings)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("background retry of withheld items failed")
