"""Run the Alembic migrations programmatically (``loupe init``, ``loupe serve``, tests).

Alembic is imported only when there is something to migrate. A database already at
the head is recognised from the revision files' own ``revision = "…"`` and
``down_revision = "…"`` lines and one ``SELECT``: importing Alembic's machinery
and loading every revision module cost about 0.15 s of each server start. A new,
empty SQLite database gets the head's schema from one script
(:mod:`loupe.db.sqlite_schema`) instead of a replay of every migration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from loupe.db import sqlite_schema

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "alembic_config",
    "alembic_upgrade",
    "current_revision",
    "head_revision",
    "plain_head",
    "upgrade",
]

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]$", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision(?:: [^=\n]+)? = (?:['\"]([^'\"]+)['\"]|None)$", re.MULTILINE
)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def plain_head() -> str | None:
    """The head revision read from the revision files as text, without Alembic.

    ``None`` unless every file names its revision and its one parent (or ``None``)
    as plain literals, no two files share a revision, and they end in one head: in
    any other case Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    files = [
        path
        for path in (MIGRATIONS / "versions").glob("*.py")
        if path.name != "__init__.py" and not path.name.startswith(".#")
    ]
    for path in files:
        source = path.read_text(encoding="utf-8")
        revision, parent = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(parent) != 1:
            return None
        revisions.add(revision[0])
        if parent[0]:
            parents.add(parent[0])
    heads = revisions - parents
    if len(revisions) != len(files) or len(heads) != 1:
        return None
    return heads.pop()


def _at_revision(engine: Engine, revision: str) -> bool:
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return list(versions.scalars()) == [revision]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is already there."""
    if revision == "head":
        head = plain_head()
        if head is not None and (_at_revision(engine, head) or sqlite_schema.create(engine, head)):
            return
    if revision == "head" and current_revision(engine) == head_revision():
        return
    alembic_upgrade(engine, revision)


def alembic_upgrade(engine: Engine, revision: str) -> None:
    """Run Alembic's migrations up to ``revision``, without any shortcut."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
