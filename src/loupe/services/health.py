"""Readiness: can this server save work right now?

``/health`` answers ok only when the database accepts a write (rolled back at
once) and every data directory has at least ``health_min_free_mb`` MiB free; a
full disk or a read-only database otherwise fails the next write, not the check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from loupe.db.database import Database
from loupe.db.engine import sqlite_file
from loupe.errors import Unavailable
from loupe.settings import Settings

__all__ = ["check_ready", "data_directories"]


def data_directories(settings: Settings) -> list[Path]:
    """Where Loupe writes: the SQLite database's directory, the key and model directories."""
    paths = [settings.resolved_key_dir(), settings.resolved_model_dir()]
    database = sqlite_file(settings.database_url)
    if database is not None:
        paths.insert(0, Path(database).resolve().parent)
    return paths


def _existing(path: Path) -> Path:
    # A directory not created yet lives on its nearest existing parent's disk.
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_ready(db: Database, settings: Settings) -> None:
    """Raise :class:`Unavailable` saying what is wrong, unless Loupe can save work."""
    minimum = settings.health_min_free_mb * 1024 * 1024
    for directory in data_directories(settings):
        free = shutil.disk_usage(_existing(directory)).free
        if free < minimum:
            raise Unavailable(
                f"only {free // (1024 * 1024)} MiB free on the disk holding {directory} "
                f"(at least {settings.health_min_free_mb} MiB needed): free space, or "
                "lower LOUPE_HEALTH_MIN_FREE_MB",
                details={"path": str(directory), "free_bytes": free},
            )
    db.check_writable()
