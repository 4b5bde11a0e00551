"""The server's background loops start and stop in one place (``loupe.web.background``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.background import background_loops

ALL_OFF: dict[str, Any] = {
    "refit_interval_seconds": 0,
    "retention_interval_seconds": 0,
    "gate_retry_interval_seconds": 0,
    "webhook_interval_seconds": 0,
    "retrain_interval_seconds": 0,
}


def _loops_run(db: Database, settings: Settings) -> tuple[set[str], bool]:
    """The loop coroutines running inside the block, and whether all ended after it."""

    async def run() -> tuple[set[str], bool]:
        before = asyncio.all_tasks()
        async with background_loops(db, settings):
            started = asyncio.all_tasks() - before
            names = {task.get_coro().__name__ for task in started}  # type: ignore[union-attr]
        return names, all(task.done() for task in started)

    return asyncio.run(run())


def test_every_loop_is_off_at_zero(db: Database, database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, model_dir=tmp_path / "models", **ALL_OFF)
    assert _loops_run(db, settings) == (set(), True)


def test_each_interval_starts_its_loop_and_the_end_cancels_them_all(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    on: dict[str, Any] = dict.fromkeys(ALL_OFF, 3600)
    settings = Settings(database_url=database_url, model_dir=tmp_path / "models", **on)
    names, stopped = _loops_run(db, settings)
    assert names == {
        "refit_loop",
        "retention_loop",
        "gate_retry_loop",
        "webhook_loop",
        "retrain_loop",
    }
    assert stopped


def test_one_interval_starts_only_its_loop(db: Database, database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        model_dir=tmp_path / "models",
        **{**ALL_OFF, "retrain_interval_seconds": 3600},
    )
    assert _loops_run(db, settings) == ({"retrain_loop"}, True)
