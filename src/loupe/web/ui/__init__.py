"""The web UI: server-rendered pages (Jinja2) from the same app as the API.

One module per page (``auth``, ``home``, ``workspace``, ``reviews``, ``escalations``,
``dashboard``, ``quality``, ``contributors``, ``qualifications``, ``wallet``, ``audit``,
``users``, ``projects``: a project's settings and its item pages; ``webhooks``;
``new_intents``); the answer editors
every work page shares in ``editors``; templates in ``templates/``; CSS and small plain
JS modules in ``static/`` (served by Loupe itself, so the UI works offline).
Pages authenticate with the browser session (``loupe.services.people.sessions``) and authorise
through the same services and policy as the API.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from loupe.web.ui import (
    audit,
    auth,
    contributors,
    dashboard,
    escalations,
    home,
    new_intents,
    projects,
    qualifications,
    quality,
    reviews,
    users,
    wallet,
    webhooks,
    workspace,
)
from loupe.web.ui.render import STATIC_DIR, error_page

__all__ = ["error_page", "install_ui", "router"]

router = APIRouter(include_in_schema=False)
for module in (
    auth,
    home,
    workspace,
    reviews,
    escalations,
    dashboard,
    quality,
    contributors,
    qualifications,
    wallet,
    audit,
    users,
    projects,
    webhooks,
    new_intents,
):
    router.include_router(module.router)


def install_ui(app: FastAPI) -> None:
    """Mount the pages and ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
