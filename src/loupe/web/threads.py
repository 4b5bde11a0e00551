"""Blocking work run from the server's event loop, in the thread pool.

A background run is a database transaction in a worker thread; cancelling the coroutine
that awaits it does not stop the thread. At shutdown the server cancels its loops and
then disposes of the database, so each loop lets the run in flight finish first
(:func:`finish_in_thread`) — otherwise its connection outlives the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["finish_in_thread"]

T = TypeVar("T")


async def finish_in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in the thread pool; if cancelled meanwhile, wait for it to end,
    then re-raise the cancellation."""
    running = asyncio.ensure_future(run_in_threadpool(fn, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait({running})
        raise
