"""``GET /``: the projects you belong to, with what you may do in each."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.policy import allowed
from loupe.services import projects
from loupe.services.access import member_role
from loupe.web.deps import Reader
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class ProjectLink:
    id: int
    name: str
    description: str
    can_work: bool
    can_monitor: bool


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    links = []
    for project in projects.list_projects(ctx.session, actor, after_id=0, limit=200):
        role = member_role(ctx.session, project.id, actor.user_id)
        links.append(
            ProjectLink(
                id=project.id,
                name=project.name,
                description=project.description,
                can_work=allowed(actor.role, "tasks.work", member_role=role),
                can_monitor=allowed(actor.role, "labels.read", member_role=role),
            )
        )
    return page(request, "home.html", current, title="Projects", projects=links)
