"""A project's settings page (managers) and its item pages, with the item's comments.

``GET /projects/{id}/settings``: the project's state with plain HTML forms (they work
without JavaScript; each posts the session's CSRF token) to archive or unarchive it, to
duplicate it as a template, and to delete it — the delete form asks for the project's
name. ``GET /projects/{id}/items/{item}``: the item as stored (after the privacy gate)
with its comments and a form to add one. Every form goes through the same services as the
API (``loupe.services.projects.project_lifecycle``,
``loupe.services.labelling.comments``) and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.models import Consensus, Project
from loupe.errors import Unauthenticated
from loupe.label_schema import Boxes, Segments
from loupe.learning.persistence import ModelStore
from loupe.permissions import allowed
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance.audit_log import ACTOR_KEY
from loupe.services.labelling import comments
from loupe.services.people import sessions
from loupe.services.projects import definition, items, media_views, project_lifecycle
from loupe.settings import Settings
from loupe.web.deps import SESSION_COOKIE, Reader
from loupe.web.params import Id
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

T = TypeVar("T")
Csrf = Annotated[str, Form(max_length=200)]


@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
def settings_page(project_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    # The page's forms change the project: only those who may (managers, admins) see it.
    project = authorize_project(ctx.session, actor, "projects.update", project_id)
    return page(
        request,
        "project_settings.html",
        current,
        title=f"{project.name} · settings",
        project=project,
        project_nav=project_links(ctx.session, actor, project_id, current="settings"),
        # A duplicate is a new project: a project's manager whose own role may not create
        # projects was shown a form that could only answer 403.
        can_duplicate=allowed(actor.role, "projects.create"),
    )


def _act(request: Request, csrf_token: str, action: Callable[[Session, Actor], T]) -> T:
    """Run ``action`` in a transaction of its own for the signed-in, CSRF-checked user."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated("sign in to change projects")
    db: Database = request.app.state.db
    with db.transaction() as session:
        current = sessions.resolve_session(session, secret)
        sessions.check_csrf(current, csrf_token)
        session.info[ACTOR_KEY] = current.actor
        return action(session, current.actor)


@router.post("/projects/{project_id}/settings/archive")
def archive(project_id: Id, request: Request, csrf_token: Csrf = "") -> RedirectResponse:
    _act(request, csrf_token, lambda s, a: project_lifecycle.archive_project(s, a, project_id))
    return RedirectResponse(f"/projects/{project_id}/settings", status_code=303)


@router.post("/projects/{project_id}/settings/unarchive")
def unarchive(project_id: Id, request: Request, csrf_token: Csrf = "") -> RedirectResponse:
    _act(request, csrf_token, lambda s, a: project_lifecycle.unarchive_project(s, a, project_id))
    return RedirectResponse(f"/projects/{project_id}/settings", status_code=303)


@router.post("/projects/{project_id}/settings/duplicate")
def duplicate(
    project_id: Id,
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    members: Annotated[bool, Form()] = False,
    csrf_token: Csrf = "",
) -> RedirectResponse:
    copy_id = _act(
        request,
        csrf_token,
        lambda s, a: (
            project_lifecycle.duplicate_project(s, a, project_id, name=name, members=members).id
        ),
    )
    return RedirectResponse(f"/projects/{copy_id}/settings", status_code=303)


@router.post("/projects/{project_id}/settings/delete")
def delete(
    project_id: Id,
    request: Request,
    confirm: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Csrf = "",
) -> RedirectResponse:
    deletion = _act(
        request,
        csrf_token,
        lambda s, a: project_lifecycle.delete_project(s, a, project_id, confirm=confirm),
    )
    settings: Settings = request.app.state.settings
    project_lifecycle.finish_deletion(
        request.app.state.db, deletion, store=ModelStore(settings.resolved_model_dir())
    )
    return RedirectResponse("/?deleted=1", status_code=303)


@router.get("/projects/{project_id}/items/{item_id}", response_class=HTMLResponse)
def item_page(project_id: Id, item_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    item = items.get_item(ctx.session, actor, project_id, item_id)
    project = definition.get_project(ctx.session, actor, project_id)
    media = media_views.media_for_reader(ctx.session, actor, project_id, [item]).get(item.id, [])
    return page(
        request,
        "item.html",
        current,
        title=f"{project.name} · item {item_id}",
        project=project,
        project_nav=project_links(ctx.session, actor, project_id, current=None),
        item=item,
        media=media,
        consensus_boxes=_consensus_boxes(ctx.session, project, item.id) if media else [],
        consensus_segments=_consensus_segments(ctx.session, project, item.id) if media else [],
        comments=comments.list_comments(ctx.session, actor, project_id, item_id),
        max_comment=comments.MAX_COMMENT,
    )


def _consensus_boxes(session: Session, project: Project, item_id: int) -> list[dict[str, Any]]:
    """The consensus boxes of an item of a boxes task, drawn on its image (the item page
    is for those who read the project's items, who may see its consensus)."""
    if not isinstance(definition.project_schema(project).task, Boxes):
        return []
    found = session.get(Consensus, item_id)
    answer = found.answer if found is not None else None
    return [b for b in answer if isinstance(b, dict)] if isinstance(answer, list) else []


def _consensus_segments(session: Session, project: Project, item_id: int) -> list[dict[str, Any]]:
    """The consensus segments of an item of a segments task, drawn on its waveform."""
    if not isinstance(definition.project_schema(project).task, Segments):
        return []
    found = session.get(Consensus, item_id)
    answer = found.answer if found is not None else None
    return [s for s in answer if isinstance(s, dict)] if isinstance(answer, list) else []


@router.post("/projects/{project_id}/items/{item_id}/comments")
def add_comment(
    project_id: Id,
    item_id: Id,
    request: Request,
    body: Annotated[str, Form(max_length=comments.MAX_COMMENT * 2)] = "",
    csrf_token: Csrf = "",
) -> RedirectResponse:
    made = _act(
        request,
        csrf_token,
        lambda s, a: comments.add_comment(s, a, project_id, item_id, body=body),
    )
    return RedirectResponse(
        f"/projects/{project_id}/items/{item_id}#comment-{made.id}", status_code=303
    )
