"""The annotator workspace: ``GET /projects/{id}/work`` and its two JSON helpers.

The page is rendered once, with the answer editor of the project's task type
(``editors.py``); from then on ``static/workspace.js`` drives it with ``fetch()``:
``POST /projects/{id}/work/next`` (the next task with its pre-label), then the API for
submit, skip, undo and flag (``/api/v1/...``, authenticated by the session cookie plus
the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from loupe.label_schema import Pairwise
from loupe.services.labelling import tasks, workspace
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.deps import Context, LeaseWriter, Reader
from loupe.web.params import Id
from loupe.web.schemas.tasks import TaskOut
from loupe.web.ui.editors import editor_for
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _secret(ctx: Context) -> bytes | None:
    """The ledger secret, to check that the entries tallied are the actor's own."""
    config = optional_ledger_config(ctx.settings)
    return config.keys.secret if config else None


class PredictionOut(BaseModel):
    label: Any
    score: float | None


def _ref_key(ctx: Context) -> bytes:
    """The key of the item refs annotators see: the ledger's pseudonym secret, else (a
    server without ledger keys) one derived from the database URL, never shown."""
    secret = _secret(ctx)
    if secret:
        return secret
    return hashlib.sha256(b"loupe-item-ref:" + ctx.settings.database_url.encode()).digest()


class WorkspaceTask(TaskOut):
    ref: str = Field(description="How the page names the item (tasks.item_ref), not its id")


class WorkspaceTaskOut(BaseModel):
    """The same keys for gold and ordinary items: nothing here tells them apart."""

    task: WorkspaceTask | None
    prediction: PredictionOut | None = None
    # Show the two outputs of a pairwise item the other way round (drawn per serving, so
    # neither system has a side); the page maps the answer back before it is sent.
    swapped: bool = False


class TallyOut(BaseModel):
    labels: int
    earnings: dict[str, int]


@router.get("/projects/{project_id}/work", response_class=HTMLResponse)
def workspace_page(project_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    project = workspace.workspace_project(ctx.session, current.actor, project_id)
    tally = workspace.today(ctx.session, current.actor, project_id, secret=_secret(ctx))
    return page(
        request,
        "workspace.html",
        current,
        title=f"{project.name} · workspace",
        project=project,
        project_nav=project_links(ctx.session, current.actor, project_id, current="work"),
        editor=editor_for(project.schema),
        tally=tally,
        grace_seconds=ctx.settings.undo_grace_seconds,
    )


@router.post("/projects/{project_id}/work/next", response_model=WorkspaceTaskOut)
def next_task(project_id: Id, ctx: LeaseWriter) -> WorkspaceTaskOut:
    found = workspace.next_for_workspace(
        ctx.session, ctx.actor, project_id, lease_seconds=ctx.settings.lease_seconds
    )
    if found is None:
        return WorkspaceTaskOut(task=None)
    prediction = found.prediction
    # Pairwise tasks come blind (no a_model/b_model: loupe.services.labelling.pairwise).
    task = WorkspaceTask(
        **asdict(found.task), ref=tasks.item_ref(_ref_key(ctx), project_id, found.task.item_id)
    )
    schema = workspace.workspace_project(ctx.session, ctx.actor, project_id).schema
    return WorkspaceTaskOut(
        task=task,
        swapped=isinstance(schema.task, Pairwise) and secrets.randbelow(2) == 1,
        prediction=PredictionOut(label=prediction.label, score=prediction.score)
        if prediction
        else None,
    )


@router.get("/projects/{project_id}/work/today", response_model=TallyOut)
def today(project_id: Id, ctx: Reader) -> TallyOut:
    actor = ctx.actor  # authenticate before looking for keys
    tally = workspace.today(ctx.session, actor, project_id, secret=_secret(ctx))
    return TallyOut(labels=tally.labels, earnings=tally.earnings)
