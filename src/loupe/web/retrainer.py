"""The background retrain: every ``retrain_interval_seconds`` the server retrains the
model of each project whose resolved items grew by ``retrain_every`` since its last
retrain (:func:`loupe.services.model_loop.retrain_schedule.projects_due_for_retrain`).

Runs in a thread, one project at a time, after commit of the labels it reads. The
claim is committed in a transaction of its own before training, so several server
workers never train the same project at once. A promoted model is written to the
model directory (``Settings.resolved_model_dir()``), so a restarted server loads its
champion (:func:`loupe.services.model_loop.model_versions.champion_model`) instead of retraining.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from loupe.db.database import Database
from loupe.errors import LoupeError
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.model_loop.model_versions import retrain_in_steps
from loupe.services.model_loop.retrain_schedule import (
    claim_retrain,
    projects_due_for_retrain,
    release_retrain,
)

__all__ = ["retrain_due_projects", "retrain_loop"]

log = logging.getLogger("loupe.retrain")


def retrain_due_projects(db: Database, *, every: int, store: ModelStore | None = None) -> list[int]:
    """Retrain every project that is due; returns the ids retrained."""
    with db.transaction(readonly=True) as session:
        due = projects_due_for_retrain(session, every=every)
    done = []
    for project_id in due:
        with db.transaction() as session:
            if not claim_retrain(session, project_id):  # another server is training it
                continue
            if project_id not in projects_due_for_retrain(session, every=every):
                release_retrain(session, project_id)  # retrained meanwhile
                continue
        try:
            retrain_in_steps(db, Actor.system(), project_id, store=store, claimed=True)
            done.append(project_id)
        except BaseException as exc:  # a failed retrain releases its claim at once
            with db.transaction() as session:
                release_retrain(session, project_id)
            if not isinstance(exc, LoupeError):
                raise
            log.info("retrain of project %s skipped: %s", project_id, exc.message)
    return done


async def retrain_loop(
    db: Database, interval: float, every: int, store: ModelStore | None = None
) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(retrain_due_projects, db, every=every, store=store)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("background retrain failed")
