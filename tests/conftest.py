"""Shared fixtures: settings, a fresh database per test (SQLite and, when
``LOUPE_TEST_DATABASE_URL`` is set, PostgreSQL), the app, an HTTP client, a CLI
runner, and plain factory functions."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from loupe.db.database import Database
from loupe.db.migrate import upgrade
from loupe.settings import Settings
from loupe.web.app import create_app

PG_ENV = "LOUPE_TEST_DATABASE_URL"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def pg_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


DEFAULT_RECURSION_LIMIT = 1000


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Python's default recursion limit, for tests that send JSON nested deeper than it.

    json's C decoder gives up at the recursion limit; with the default that is a
    RecursionError, which Loupe turns into a clear refusal. In a long test session the
    limit may have been raised (Hypothesis raises it while it runs), and a raised limit
    lets the decoder recurse past the C stack: a 100,000-deep body crashed a pytest-xdist
    worker with a segmentation fault. A server runs with the default.
    """
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "loupe.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    """A schema of this test session's own (so concurrent runs never collide), migrated."""
    base = pg_url()
    assert base
    schema = f"loupe_test_{os.getpid()}"
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    scoped = create_engine(url)
    upgrade(scoped)
    scoped.dispose()
    yield url
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not os.environ.get(PG_ENV),
                reason=f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)",
            ),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for this test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "loupe.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_migrated")
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        lease_seconds=600,
        key_dir=tmp_path / "keys",
        model_dir=tmp_path / "models",
        # Else a PostgreSQL run would write blobs to ./loupe-media in the checkout.
        media_dir=tmp_path / "media",
        refit_interval_seconds=0,
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=4)
    yield database
    database.dispose()


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
