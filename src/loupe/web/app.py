"""``create_app(settings)``: the FastAPI application. Nothing happens at import."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from loupe import __version__
from loupe.db.database import Database
from loupe.services.compliance.key_binding import check_key_dir
from loupe.settings import Settings
from loupe.web.api import router as api_router
from loupe.web.api import undo
from loupe.web.background import background_loops
from loupe.web.body_limit import BodyLimit
from loupe.web.cosigner import cosigner_for
from loupe.web.errors import ERROR_RESPONSES, install_error_handlers
from loupe.web.hot_path import HotPath
from loupe.web.no_store import NoStore
from loupe.web.text_guard import reject_unstorable_text
from loupe.web.ui import error_page, install_ui

__all__ = ["create_app", "create_app_from_env"]

DESCRIPTION = """
Loupe keeps a deployed model and people in one feedback loop.

Authenticate with `Authorization: Bearer <token>` (the web UI at `/` uses its
session cookie and an `X-CSRF-Token` header instead). Every error is a JSON body
`{"error": {"code", "message", "details"}}` whose message says what to fix.
"""


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app for ``settings``; the database is opened (and migrated) on startup."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database.from_settings(settings)
        # Blobs of deleted items (erasure, retention) go once their deletion commits.
        from loupe.services.projects.media_gc import use_blob_store

        use_blob_store(db, settings)
        try:
            if migrate:
                db.migrate()
            db.check_writable()  # a read-only database stops start-up with a one-line reason
            check_key_dir(db, settings.resolved_key_dir())  # never another database's keys
        except BaseException:
            db.dispose()
            raise
        app.state.db = db
        app.state.cosigner = cosigner_for(db, settings)
        try:
            async with background_loops(db, settings, app.state.cosigner):
                yield
        finally:
            db.dispose()

    app = FastAPI(
        title="Loupe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        # Swagger UI and ReDoc load their scripts from a CDN, which would run on this
        # origin; no local copy is installed, so neither is served (docs/api.md).
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(reject_unstorable_text)],
    )
    app.state.settings = settings
    app.state.cosigner = None
    install_error_handlers(app, html=error_page)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(undo.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    install_ui(app)
    # The next task and a submit skip FastAPI's routing and dependencies (issue 18).
    app.add_middleware(HotPath)
    # Outside the hot path, so its answers are marked too: no browser keeps API data.
    app.add_middleware(NoStore)
    # Added last, so it wraps everything (the hot path too): no body over its cap is read.
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_batch_body_bytes=settings.max_batch_body_bytes,
        html=error_page,
    )
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from the environment."""
    app = create_app(Settings())
    # What start-up made lives as long as the process: out of every later collection.
    gc.freeze()
    gc.enable()  # `loupe serve` turns the collector off while the server starts
    return app
