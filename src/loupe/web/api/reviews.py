from __future__ import annotations

from fastapi import APIRouter, Response, status

from loupe.services.labelling import reviews
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit, page_of
from loupe.web.schemas.common import Page
from loupe.web.schemas.reviews import (
    NextReviewOut,
    ReviewIn,
    ReviewOut,
    ReviewRecordOut,
    ReviewTaskOut,
)

router = APIRouter(tags=["reviews"])


@router.post("/projects/{project_id}/reviews/next", response_model=NextReviewOut)
def next_review(project_id: Id, ctx: Writer) -> NextReviewOut:
    """Reserve the next label waiting for your review (blind: you never see who gave it)."""
    task = reviews.next_review(
        ctx.session, ctx.actor, project_id, lease_seconds=ctx.settings.lease_seconds
    )
    return NextReviewOut(
        review=ReviewTaskOut.model_validate(task, from_attributes=True) if task else None
    )


@router.post(
    "/projects/{project_id}/labels/{label_id}/reviews",
    response_model=ReviewOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ReviewOut, "description": "The same verdict was already recorded"}},
)
def review(
    project_id: Id, label_id: Id, body: ReviewIn, ctx: Writer, response: Response
) -> ReviewOut:
    """Accept, reject (with a reason) or correct a label. Rejected work goes back to the queue."""
    outcome = reviews.submit_review(
        ctx.session,
        ctx.actor,
        project_id,
        label_id,
        verdict=body.verdict,
        reason=body.reason,
        corrected_answer=body.corrected_answer,
        ledger=optional_ledger_config(ctx.settings),
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    return ReviewOut(
        review_id=outcome.review_id,
        label_id=outcome.label_id,
        verdict=outcome.verdict,
        status=outcome.status,
        correction_label_id=outcome.correction_label_id,
    )


@router.get("/projects/{project_id}/reviews", response_model=Page[ReviewRecordOut])
def list_reviews(
    project_id: Id, ctx: Reader, after: After = 0, limit: Limit = 100
) -> Page[ReviewRecordOut]:
    """Every verdict (managers, reviewers and auditors); labeller and reviewer are null
    for project reviewers, so review stays blind."""
    rows = reviews.list_reviews(ctx.session, ctx.actor, project_id, after_id=after, limit=limit + 1)
    return page_of(rows, limit, ReviewRecordOut)
