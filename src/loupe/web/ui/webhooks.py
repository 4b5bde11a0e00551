"""``GET /projects/{id}/webhooks``: a project's webhooks and their delivery log (managers).

Rendered on the server, newest deliveries first (``?status=failed&before=<id>``); the
buttons (add, ping, pause, delete, redeliver) call the JSON API with the session's CSRF
token (``static/webhooks.js``). A new webhook's secret is shown once, in the page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from loupe.services.projects import definition, webhooks
from loupe.web.deps import Reader
from loupe.web.params import MAX_ID, Id
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50


@router.get("/projects/{project_id}/webhooks", response_class=HTMLResponse)
def webhooks_page(
    project_id: Id,
    request: Request,
    ctx: Reader,
    status: Annotated[
        Literal["pending", "delivering", "delivered", "failed"] | None, Query()
    ] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    current = ctx.browser_session
    hooks = webhooks.list_webhooks(ctx.session, current.actor, project_id)
    log = webhooks.list_deliveries(
        ctx.session, current.actor, project_id, status=status, before=before, limit=PAGE
    )
    project = definition.get_project(ctx.session, current.actor, project_id)
    return page(
        request,
        "webhooks.html",
        current,
        title=f"{project.name} · webhooks",
        project={"id": project_id, "name": project.name},
        project_nav=project_links(ctx.session, current.actor, project_id, current="settings"),
        hooks=hooks,
        deliveries=log.deliveries,
        next_before=log.next_before,
        status=status or "",
        events=webhooks.EVENTS,
    )
