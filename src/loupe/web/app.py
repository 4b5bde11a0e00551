"""``create_app(settings)``: the FastAPI application. Nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from loupe import __version__
from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.api import router as api_router
from loupe.web.errors import install_error_handlers

__all__ = ["create_app", "create_app_from_env"]

DESCRIPTION = """
Loupe keeps a deployed model and people in one feedback loop.

Authenticate with `Authorization: Bearer <token>`. Every error is a JSON body
`{"error": {"code", "message", "details"}}` whose message says what to fix.
"""


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app for ``settings``; the database is opened (and migrated) on startup."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        if migrate:
            db.migrate()
        app.state.db = db
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="Loupe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(api_router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from the environment."""
    return create_app(Settings())
