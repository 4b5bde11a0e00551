"""A new SQLite database gets the head's schema from one script, which must stay
exactly what the migrations make."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from loupe.db import sqlite_schema
from loupe.db.database import Database
from loupe.db.migrate import alembic_upgrade, current_revision, head_revision, upgrade

NEW_DATABASE = """
import json, sys
from loupe.db.database import Database

db = Database(f"sqlite:///{sys.argv[1]}")
db.migrate()
db.check_writable()
db.dispose()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_the_script_is_what_the_migrations_make() -> None:
    assert sqlite_schema.SCRIPT.read_text(encoding="utf-8") == sqlite_schema.generate(), (
        "src/loupe/db/sqlite_schema.sql is stale: run `python -m loupe.db.sqlite_schema`"
    )


def test_a_new_database_is_made_from_the_script_as_alembic_makes_it(tmp_path: Path) -> None:
    scripted, replayed = (
        Database(f"sqlite:///{tmp_path}/a.db"),
        Database(f"sqlite:///{tmp_path}/b.db"),
    )
    upgrade(scripted.engine)
    alembic_upgrade(replayed.engine, "head")
    assert current_revision(scripted.engine) == head_revision()
    scripted.dispose()
    replayed.dispose()
    assert sqlite_schema.dump(tmp_path / "a.db") == sqlite_schema.dump(tmp_path / "b.db")


def test_a_new_database_is_migrated_without_importing_alembic(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NEW_DATABASE, str(tmp_path / "new.db")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & {"alembic", "mako"}
    assert sqlite_schema.dump(tmp_path / "new.db") == sqlite_schema.statements(
        sqlite_schema.SCRIPT.read_text(encoding="utf-8")
    )


def test_a_database_that_is_not_empty_is_left_to_alembic(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.db")
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    head = head_revision()
    assert head is not None
    assert sqlite_schema.create(db.engine, head) is False
    with db.engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    db.dispose()
    assert tables == ["notes"]


def test_a_script_at_another_revision_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "stale.sql"
    script = sqlite_schema.SCRIPT.read_text(encoding="utf-8")
    head = head_revision()
    assert head is not None and sqlite_schema.revision_of(script) == head
    stale.write_text(script.replace(f"at revision {head}.", "at revision 0001.", 1))
    monkeypatch.setattr(sqlite_schema, "SCRIPT", stale)
    db = Database(f"sqlite:///{tmp_path}/x.db")
    assert sqlite_schema.create(db.engine, head) is False
    db.migrate()  # Alembic replays the migrations instead
    assert current_revision(db.engine) == head
    db.dispose()


def test_the_script_splits_into_whole_statements() -> None:
    script = (
        "-- a comment\nCREATE TABLE t (\n\ta TEXT DEFAULT ';'\n);\nINSERT INTO t VALUES('x;\ny');\n"
    )
    assert sqlite_schema.statements(script) == [
        "CREATE TABLE t (\n\ta TEXT DEFAULT ';'\n);",
        "INSERT INTO t VALUES('x;\ny');",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        sqlite_schema.statements("CREATE TABLE t (a TEXT")
