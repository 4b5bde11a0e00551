"""The work the server runs on its own, started and stopped in one place.

:func:`background_loops` wraps the app's lifespan once the database is open: it starts
one task per enabled loop and, at shutdown, cancels them (newest first) before the
database is disposed of. A setting of ``0`` turns its loop off::

    loop                        setting                              module
    re-fit of aggregators       refit_interval_seconds               loupe.web.refitter
    retention purge             retention_interval_seconds           loupe.web.retention
    retry of withheld items     gate_retry_interval_seconds          loupe.web.gate_retry
    webhook deliveries          webhook_interval_seconds             loupe.web.webhook_sender
    witness cosigning           ledger_witnesses (a Cosigner)        loupe.web.cosigner
    model retraining            retrain_interval_seconds             loupe.web.retrainer
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from loupe.db.database import Database
from loupe.learning.persistence import ModelStore
from loupe.settings import Settings
from loupe.web.cosigner import Cosigner, cosign_loop
from loupe.web.gate_retry import gate_retry_loop
from loupe.web.refitter import refit_loop
from loupe.web.retention import retention_loop
from loupe.web.retrainer import retrain_loop
from loupe.web.webhook_sender import webhook_loop

__all__ = ["background_loops"]


def _enabled_loops(
    db: Database, settings: Settings, cosigner: Cosigner | None
) -> list[Coroutine[Any, Any, None]]:
    loops: list[Coroutine[Any, Any, None]] = []
    if settings.refit_interval_seconds > 0:
        loops.append(refit_loop(db, settings.refit_interval_seconds))
    if settings.retention_interval_seconds > 0:
        loops.append(retention_loop(db, settings.retention_interval_seconds))
    if settings.gate_retry_interval_seconds > 0:
        loops.append(gate_retry_loop(db, settings))
    if settings.webhook_interval_seconds > 0:
        loops.append(webhook_loop(db, settings))
    if cosigner is not None:
        loops.append(cosign_loop(cosigner))
    if settings.retrain_interval_seconds > 0:
        store = ModelStore(settings.resolved_model_dir())
        loops.append(
            retrain_loop(db, settings.retrain_interval_seconds, settings.retrain_every, store)
        )
    return loops


@asynccontextmanager
async def background_loops(
    db: Database, settings: Settings, cosigner: Cosigner | None = None
) -> AsyncIterator[None]:
    """Run every enabled loop while the block runs; cancel and await them at its end."""
    tasks = [asyncio.create_task(loop) for loop in _enabled_loops(db, settings, cosigner)]
    try:
        yield
    finally:
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
