"""``GET /projects/{id}/expert``: the escalation ladder's work page, and its JSON helper.

Experts (``?stage=expert``, the default for them) get escalated items of their
domains from the API (``POST /api/v1/projects/{id}/expert-tasks/next``, under a
lease) and answer them, or pass them up to the adjudicator with a reason. Project
managers and admins (``?stage=adjudicator``, their default) decide what experts
passed up, the same way: ``GET /projects/{id}/expert/adjudication`` hands them the
next such item with the crowd's answers (never who gave them). Both answer through
``POST /api/v1/projects/{id}/escalations/{item}/resolve``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from loupe.services.labelling import escalation_queue, escalations, workspace
from loupe.services.labelling.comments import MAX_COMMENT
from loupe.web.deps import Reader
from loupe.web.params import MAX_ID, Id
from loupe.web.schemas.media import MediaOut
from loupe.web.ui.editors import editor_for
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Stage = Literal["expert", "adjudicator"]
ItemId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Open this item")]


class AdjudicationOut(BaseModel):
    item_id: int
    data: dict[str, Any]
    language: str | None
    domain: str
    reason: str
    created_at: datetime
    answers: list[Any]
    media: list[MediaOut] = []


class NextAdjudicationOut(BaseModel):
    task: AdjudicationOut | None


@router.get("/projects/{project_id}/expert", response_class=HTMLResponse)
def expert_page(
    project_id: Id,
    request: Request,
    ctx: Reader,
    stage: Stage | None = None,
    item: ItemId = None,
) -> HTMLResponse:
    current = ctx.browser_session
    can = workspace.capabilities(ctx.session, current.actor, project_id)
    waiting = escalations.waiting_work(ctx.session, current.actor, project_id)
    if stage is None:
        # Open the stage where work waits: an expert who also adjudicates is not told
        # "nothing waiting" while items wait on the other tab.
        expert_first = can.expert and not (waiting.expert == 0 and waiting.adjudicator)
        stage = "expert" if expert_first or not can.adjudicate else "adjudicator"
    project = workspace.workspace_project(
        ctx.session,
        current.actor,
        project_id,
        action="escalations.resolve" if stage == "adjudicator" else "tasks.work",
    )
    return page(
        request,
        "expert.html",
        current,
        title=f"{project.name} · {'adjudication' if stage == 'adjudicator' else 'expert queue'}",
        project=project,
        project_nav=project_links(ctx.session, current.actor, project_id, current="expert"),
        editor=editor_for(project.schema),
        stage=stage,
        both=can.adjudicate and can.expert,
        waiting=waiting,
        item=item if stage == "adjudicator" else None,
        max_comment=MAX_COMMENT,
    )


@router.get("/projects/{project_id}/expert/adjudication", response_model=NextAdjudicationOut)
def next_adjudication(
    project_id: Id,
    ctx: Reader,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    item: ItemId = None,
) -> NextAdjudicationOut:
    found = escalation_queue.next_adjudication(
        ctx.session, ctx.actor, project_id, after=after, item_id=item
    )
    if found is None:
        return NextAdjudicationOut(task=None)
    return NextAdjudicationOut(task=AdjudicationOut.model_validate(found, from_attributes=True))
