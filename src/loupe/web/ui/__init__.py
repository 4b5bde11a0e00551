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

from fastapi import FastAPI
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

__all__ = ["PAGES", "error_page", "install_ui"]

#: One router per page module, in matching order.
PAGES = tuple(
    module.router
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
    )
)


def install_ui(app: FastAPI) -> None:
    """Mount the pages and ``/static``."""
    # Each page router goes straight into the app: one router that included them all,
    # included without a prefix, made FastAPI build every page route once more only to
    # check that no path is empty, and throw that away (~25 ms of every start).
    for router in PAGES:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
