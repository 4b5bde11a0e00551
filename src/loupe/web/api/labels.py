from __future__ import annotations

from fastapi import APIRouter, Response, status

from loupe.services.labelling import labels
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit, page_of
from loupe.web.schemas.common import Page
from loupe.web.schemas.labels import GoldFeedbackOut, LabelIn, LabelOut, SubmitOut

router = APIRouter(tags=["labels"])


@router.post(
    "/projects/{project_id}/items/{item_id}/labels",
    response_model=SubmitOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": SubmitOut, "description": "The same answer was already recorded"}},
)
def submit_label(
    project_id: Id, item_id: Id, body: LabelIn, ctx: Writer, response: Response
) -> SubmitOut:
    """Submit your answer. It is durable once this returns.

    Sending the same answer again returns the recorded label (200); a different
    answer for an item you labelled already is a 409.
    """
    submission = labels.submit_label(
        ctx.session,
        ctx.actor,
        project_id,
        item_id,
        body.answer,
        lead_time_ms=body.lead_time_ms,
        ledger=optional_ledger_config(ctx.settings),
    )
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    out = SubmitOut.model_validate(submission.label)
    if submission.gold is not None and submission.gold.shown:  # untold: same as any label
        out.gold = GoldFeedbackOut.model_validate(submission.gold)
    return out


@router.get("/projects/{project_id}/labels", response_model=Page[LabelOut])
def list_labels(
    project_id: Id, ctx: Reader, after: After = 0, limit: Limit = 100
) -> Page[LabelOut]:
    rows = labels.list_labels(ctx.session, ctx.actor, project_id, after_id=after, limit=limit + 1)
    return page_of(rows, limit, LabelOut)
