"""``GET /``: the projects you belong to, with what you may do in each."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.permissions import allowed
from loupe.services.access import member_role
from loupe.services.labelling import escalations, workspace
from loupe.services.projects import definition
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
    can_review: bool
    can_expert: bool  # answer escalated items (an expert) or decide them (an adjudicator)
    adjudicator: bool
    can_monitor: bool
    expert_waiting: int | None = None  # escalated items waiting for them as an expert
    adjudicator_waiting: int | None = None  # and as an adjudicator


@dataclass(frozen=True, slots=True)
class ArchivedLink:
    id: int
    name: str
    can_monitor: bool
    can_manage: bool


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    links = []
    for project in definition.list_projects(ctx.session, actor, after_id=0, limit=200):
        can = workspace.capabilities(ctx.session, actor, project.id)
        waiting = escalations.WaitingWork(None, None)
        if can.expert or can.adjudicate:
            waiting = escalations.waiting_work(ctx.session, actor, project.id)
        links.append(
            ProjectLink(
                id=project.id,
                name=project.name,
                description=project.description,
                can_work=can.work,
                can_review=can.review,
                can_expert=can.expert or can.adjudicate,
                adjudicator=can.adjudicate and not can.expert,
                can_monitor=can.monitor,
                expert_waiting=waiting.expert if can.expert else None,
                adjudicator_waiting=waiting.adjudicator if can.adjudicate else None,
            )
        )
    # Archived projects are listed apart: readable, and their managers can reopen them.
    archived = [
        ArchivedLink(
            id=project.id,
            name=project.name,
            can_monitor=workspace.capabilities(ctx.session, actor, project.id).monitor,
            can_manage=allowed(
                actor.role,
                "projects.update",
                member_role=member_role(ctx.session, project.id, actor.user_id),
            ),
        )
        for project in definition.list_projects(
            ctx.session, actor, after_id=0, limit=200, archived=True
        )
    ]
    return page(
        request,
        "home.html",
        current,
        title="Projects",
        nav_current="home",
        projects=links,
        archived=archived,
    )
