from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loupe.db.database import Database
from loupe.db.migrate import current_revision, head_revision, plain_head
from loupe.db.models import Base


def test_migrations_match_the_models(db: Database) -> None:
    """A fresh database built by the migrations has exactly the models' schema."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrate_is_idempotent(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    db.migrate()
    assert current_revision(db.engine) == head_revision()


def test_the_plain_head_is_alembics_head() -> None:
    """``upgrade`` skips Alembic when the database is at the head read from the files."""
    assert plain_head() == head_revision() is not None


def test_the_plain_head_leaves_anything_unusual_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loupe.db.migrate

    versions = tmp_path / "versions"
    versions.mkdir()
    monkeypatch.setattr(loupe.db.migrate, "MIGRATIONS", tmp_path)

    def write(name: str, revision: str, parent: str) -> None:
        (versions / f"{name}.py").write_text(f"revision = {revision}\ndown_revision = {parent}\n")

    write("0001_a", '"0001"', "None")
    write("0002_b", '"0002"', '"0001"')
    assert plain_head() == "0002"
    write("0003_c", '"0003"', '"0001"')  # a branch: two heads
    assert plain_head() is None
    write("0003_c", '"0003"', '("0001", "0002")')  # a merge
    assert plain_head() is None
    write("0003_c", "REVISION", '"0002"')  # not a literal
    assert plain_head() is None
    write("0003_c", '"0002"', '"0001"')  # a revision twice
    assert plain_head() is None


def test_sqlite_is_configured_once_in_the_engine(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/x.db")
    with database.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "journal_mode",
                "foreign_keys",
                "synchronous",
                "busy_timeout",
                "secure_delete",
            )
        }
    database.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        # FULL (2): an acknowledged write is on disk before the reply (power-loss safe).
        "synchronous": 2,
        "busy_timeout": 30000,
        "secure_delete": 1,
    }


def test_sqlite_normal_durability_is_opt_in(tmp_path: object) -> None:
    """``LOUPE_SQLITE_SYNCHRONOUS=normal`` selects NORMAL (1); the server follows settings."""
    from loupe.settings import Settings

    assert Settings(database_url="sqlite://").sqlite_synchronous == "full"
    database = Database.from_settings(
        Settings(database_url=f"sqlite:///{tmp_path}/n.db", sqlite_synchronous="normal")
    )
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    database.dispose()


def test_existing_projects_close_health_when_migrated(tmp_path: object) -> None:
    """Revision 0010: projects made before the safe default get ``health`` in their
    ``clearance_for`` (their current config and its history row)."""
    from sqlalchemy import text

    from loupe.db.migrate import upgrade

    database = Database(f"sqlite:///{tmp_path}/old.db")
    upgrade(database.engine, "0009")
    opened = '{"task": {"type": "free_text"}, "routing": {"clearance_for": ["personal"]}}'
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, description, guidelines, overlap, config, "
                "config_version, created_at, updated_at) VALUES (1, 'p', '', '', 1, :c, 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            ),
            {"c": opened},
        )
        connection.execute(
            text(
                "INSERT INTO project_configs (project_id, version, config, guidelines, overlap, "
                "created_at) VALUES (1, 1, :c, '', 1, '2026-01-01 00:00:00')"
            ),
            {"c": opened},
        )
    upgrade(database.engine)
    with database.engine.connect() as connection:
        configs = [
            json.loads(row[0])
            for row in connection.execute(
                text("SELECT config FROM projects UNION ALL SELECT config FROM project_configs")
            )
        ]
    database.dispose()
    assert [c["routing"]["clearance_for"] for c in configs] == [["personal", "health"]] * 2
