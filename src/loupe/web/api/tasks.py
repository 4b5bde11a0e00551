from __future__ import annotations

from fastapi import APIRouter, Response, status

from loupe.services.labelling import tasks
from loupe.web.deps import LeaseWriter, Writer
from loupe.web.params import Id
from loupe.web.schemas.tasks import NextTaskOut, TaskOut

router = APIRouter(tags=["tasks"])


@router.post("/projects/{project_id}/tasks/next", response_model=NextTaskOut)
def next_task(project_id: Id, ctx: LeaseWriter) -> NextTaskOut:
    """Reserve the next item for you (a lease that expires if you walk away).

    Asking again before labelling returns the same item. ``task`` is null when
    nothing is left for you in this project.
    """
    task = tasks.next_task(
        ctx.session, ctx.actor, project_id, lease_seconds=ctx.settings.lease_seconds
    )
    return NextTaskOut(task=TaskOut.model_validate(task, from_attributes=True) if task else None)


@router.post("/projects/{project_id}/tasks/{item_id}/skip", status_code=status.HTTP_204_NO_CONTENT)
def skip(project_id: Id, item_id: Id, ctx: Writer) -> Response:
    """Pass on an item; it is not offered to you again."""
    tasks.skip_task(ctx.session, ctx.actor, project_id, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
