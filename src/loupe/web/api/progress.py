"""``GET /projects/{id}/progress``: the figures the manager dashboard shows."""

from __future__ import annotations

from fastapi import APIRouter

from loupe.services.projects import progress
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.schemas.progress import ProgressOut

router = APIRouter(tags=["quality"])


@router.get("/projects/{project_id}/progress", response_model=ProgressOut)
def project_progress(project_id: Id, ctx: Reader) -> ProgressOut:
    """Where the project's items stand (resolved by the model, settled by people, waiting
    for people, gold, withheld: they add up to ``items``), labels per day, the top
    contributors, agreement (the definition ``/quality`` uses) and, for those who
    manage payments, the cost to date (null for others)."""
    return ProgressOut.model_validate(progress.project_progress(ctx.session, ctx.actor, project_id))
