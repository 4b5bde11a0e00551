"""The background re-fit: every ``refit_interval_seconds`` the server re-fits the
aggregator of each project that gained ``refit_every`` labels since its last fit.

Runs in the server's thread pool. The claim is committed in a transaction of its own
before the fit, so of several servers exactly one fits a project; a failed fit releases
it. The fit itself holds no transaction (:func:`loupe.services.quality.refits.refit_in_steps`):
a snapshot, the fit, then short write transactions, so submits never wait for a fit.
"""

from __future__ import annotations

import asyncio
import logging

from loupe.db.database import Database
from loupe.errors import LoupeError
from loupe.services.quality.refits import (
    claim_refit,
    projects_due_for_refit,
    refit_in_steps,
    release_refit,
)
from loupe.web.threads import finish_in_thread

__all__ = ["refit_due_projects", "refit_loop"]

log = logging.getLogger("loupe.refit")


def refit_due_projects(db: Database) -> list[int]:
    """Re-fit every project that is due; returns the ids re-fitted."""
    with db.transaction(readonly=True) as session:
        due = projects_due_for_refit(session)
    done = []
    for project_id in due:
        with db.transaction() as session:
            if not claim_refit(session, project_id):  # another server is fitting it
                continue
            if project_id not in projects_due_for_refit(session):  # fitted meanwhile
                release_refit(session, project_id)
                continue
        try:  # a failed fit releases its claim at once
            report = refit_in_steps(db, project_id, claimed=True)
        except LoupeError as exc:
            log.info("refit of project %s skipped: %s", project_id, exc.message)
            continue
        done.append(project_id)
        if report.n_kept:
            log.info(
                "refit of project %s: %s items kept the consensus of labels given during the fit",
                project_id,
                report.n_kept,
            )
    return done


async def refit_loop(db: Database, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await finish_in_thread(refit_due_projects, db)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("background refit failed")
