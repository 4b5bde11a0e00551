"""``GET /projects/{id}/new-intents``: candidate new intents, each with an "Add as label"
form (managers).

The candidates are clusters of the project's newest out-of-scope or novel requests
(:func:`loupe.services.model_loop.new_intents.candidates`); the form (plain HTML, the
session's CSRF token) posts the candidate's items and a label key to
``/projects/{id}/new-intents/adopt``, which adds the label and sends the items to people
through the same service as the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.services.compliance.audit_log import ACTOR_KEY
from loupe.services.model_loop import new_intents
from loupe.services.model_loop.new_intents import AdoptedIntent
from loupe.services.people import sessions
from loupe.services.projects import definition
from loupe.web.deps import SESSION_COOKIE, Reader
from loupe.web.params import MAX_ID, Id
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/new-intents", response_class=HTMLResponse)
def new_intents_page(
    project_id: Id,
    request: Request,
    ctx: Reader,
    adopted: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    current = ctx.browser_session
    found = new_intents.candidates(ctx.session, current.actor, project_id)
    project = definition.get_project(ctx.session, current.actor, project_id)
    return page(
        request,
        "new_intents.html",
        current,
        title=f"{project.name} · new intents",
        project={"id": project_id, "name": project.name},
        project_nav=project_links(ctx.session, current.actor, project_id, current="settings"),
        candidates=found,
        adopted=adopted,
    )


def _adopt(
    request: Request, csrf_token: str, project_id: int, label: str, item_ids: list[int]
) -> AdoptedIntent:
    """Adopt in a transaction of its own for the signed-in, CSRF-checked user."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated("sign in to change projects")
    db: Database = request.app.state.db
    with db.transaction() as session:
        current = sessions.resolve_session(session, secret)
        sessions.check_csrf(current, csrf_token)
        session.info[ACTOR_KEY] = current.actor
        return new_intents.adopt(session, current.actor, project_id, label=label, item_ids=item_ids)


@router.post("/projects/{project_id}/new-intents/adopt")
def adopt(
    project_id: Id,
    request: Request,
    label: Annotated[str, Form(max_length=200)] = "",
    item_ids: Annotated[list[Annotated[int, Form(ge=1, le=MAX_ID)]], Form()] = [],  # noqa: B006
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    done = _adopt(request, csrf_token, project_id, label, item_ids)
    return RedirectResponse(
        f"/projects/{project_id}/new-intents?adopted={done.label}", status_code=303
    )
