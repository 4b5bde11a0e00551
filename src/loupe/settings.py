"""Settings, read once by whoever starts Loupe (``create_app``, the CLI), never at import.

Every setting can come from the environment with the ``LOUPE_`` prefix, e.g.
``LOUPE_DATABASE_URL=postgresql+psycopg://user@host/db``. ``docs/settings.md``
lists them all, and a test keeps that page in step with this class.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Loupe's configuration.

    >>> Settings(database_url="sqlite:///./example.db").lease_seconds
    600
    """

    model_config = SettingsConfigDict(env_prefix="LOUPE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./loupe.db",
        description="SQLAlchemy URL. SQLite (the default) or postgresql+psycopg://...",
    )
    lease_seconds: int = Field(
        default=600,
        ge=1,
        description="How long a task handed out by `next task` stays reserved for its annotator.",
    )
    db_pool_size: int = Field(
        default=8, ge=1, description="Connections per server process (PostgreSQL)."
    )
    max_import_batch: int = Field(
        default=10_000, ge=1, description="Most items one JSON import request may carry."
    )
    export_chunk_size: int = Field(
        default=2_000, ge=1, description="Rows read per query while streaming an export."
    )
