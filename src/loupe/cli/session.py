"""What every CLI command shares: settings, the database, and resolving names."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rich.console import Console
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.errors import NotFound
from loupe.services.people.users import find_user_id
from loupe.services.projects.definition import find_project_id
from loupe.settings import Settings

__all__ = [
    "console",
    "err_console",
    "open_database",
    "open_output",
    "resolve_project",
    "resolve_user",
    "settings",
    "to_stdout",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def to_stdout(output: Path | None) -> bool:
    """Whether ``-o``/``--output`` means standard output: absent, or ``-`` (the Unix convention)."""
    return output is None or str(output) == "-"


@contextmanager
def open_output(output: Path | None) -> Iterator[IO[str]]:
    """The text stream ``-o``/``--output`` names: standard output for ``-`` (left open)."""
    if to_stdout(output):
        yield sys.stdout
        return
    assert output is not None
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def settings(database_url: str | None = None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


@contextmanager
def open_database(database_url: str | None = None) -> Iterator[Database]:
    """The database, migrated to the current schema (cheap when it already is)."""
    config = settings(database_url)
    db = Database.from_settings(config)
    # Blobs of deleted items (erasure, retention) go once their deletion commits.
    from loupe.services.projects.media_gc import use_blob_store

    use_blob_store(db, config)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def resolve_project(session: Session, ref: str) -> int:
    """A project by id or by name."""
    found = find_project_id(session, ref)
    if found is None:
        raise NotFound(f"no project with id or name {ref!r}; `loupe projects list` shows them")
    return found


def resolve_user(session: Session, ref: str) -> int:
    """A user by id or by username."""
    found = find_user_id(session, ref)
    if found is None:
        raise NotFound(f"no user named {ref!r}; `loupe users list` shows them")
    return found
