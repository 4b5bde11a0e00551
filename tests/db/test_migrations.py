from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loupe.db.database import Database
from loupe.db.migrate import current_revision, head_revision
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
        "synchronous": 1,
        "busy_timeout": 30000,
        "secure_delete": 1,
    }
