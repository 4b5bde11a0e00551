"""Taking a background job's claim, and keeping it fresh while its slow part runs.

A project's re-fit and retrain are claimed with a timestamp (``fitting_since``,
``training_since``) set by a conditional ``UPDATE``; a claim older than ten minutes is
taken for a dead server's and taken over (:func:`loupe.services.quality.refits.claim_refit`,
:func:`loupe.services.model_loop.retrain_schedule.claim_retrain`). A fit of a very large
project can run longer than that: while it runs, a daemon thread moves the claim's
timestamp forward every :data:`RENEW_EVERY`, so no second server starts the same work
while the first is alive. A server that dies stops renewing, and its claim goes stale as
before. The renewal stops as soon as the claim is no longer the one it renewed (released,
or taken over).

Wrap only work that holds no transaction: on SQLite the renewal's own short write
transaction waits for the writer lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.errors import LoupeError

__all__ = ["RENEW_EVERY", "renewed_claim", "take_claim"]

#: How often a held claim is renewed: a third of the ten minutes after which it is stale.
RENEW_EVERY = timedelta(minutes=10) / 3

log = logging.getLogger("loupe.claims")


def take_claim(
    session: Session,
    model: type[Any],
    column: str,
    project_id: int,
    *,
    now: datetime,
    stale: timedelta,
) -> bool:
    """Set the project's claim in ``model.column`` to ``now`` if it is free or older than
    ``stale`` (a dead server's). One conditional ``UPDATE``: its row count says who won,
    so of several servers claiming at once exactly one does. False also when the project
    has no row yet (the caller creates it). The session's copy of the row is refreshed."""
    field = getattr(model, column)
    taken = session.execute(
        update(model)
        .where(model.project_id == project_id, or_(field.is_(None), field <= now - stale))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    session.get(model, project_id, populate_existing=True)
    return int(getattr(taken, "rowcount", 0) or 0) == 1


@contextmanager
def renewed_claim(
    db: Database, model: type[Any], column: str, project_id: int, *, every: timedelta = RENEW_EVERY
) -> Iterator[None]:
    """Renew the project's claim in ``model.column`` (``QualityState.fitting_since``,
    ``LoopConfig.training_since``) every ``every`` while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_renew,
        args=(db, model, column, project_id, every, stop),
        name=f"loupe-claim-{model.__tablename__}-{project_id}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _renew(
    db: Database,
    model: type[Any],
    column: str,
    project_id: int,
    every: timedelta,
    stop: threading.Event,
) -> None:
    field = getattr(model, column)
    held: datetime | None = None
    known = False  # the claim is first read at the first turn: short work touches nothing
    while not stop.wait(every.total_seconds()):
        now = utcnow()
        try:
            with db.transaction() as session:
                if not known:
                    held = session.scalar(select(field).where(model.project_id == project_id))
                    known = True
                if held is None:  # nothing claimed: nothing to renew
                    return
                result = session.execute(
                    update(model)
                    .where(model.project_id == project_id, field == held)
                    .values({column: now})
                    .execution_options(synchronize_session=False)
                )
                renewed = getattr(result, "rowcount", 0) == 1
        except (LoupeError, SQLAlchemyError) as exc:  # try again at the next turn
            log.warning("could not renew the %s claim of project %s: %s", column, project_id, exc)
            continue
        if not renewed:  # released, or taken over: no longer ours to renew
            return
        held = now
