from __future__ import annotations

from fastapi import APIRouter

from loupe.services.access import authorize_project
from loupe.services.compliance.gate import gate_for
from loupe.services.labelling import escalation_queue
from loupe.services.projects import definition
from loupe.services.quality import agreement, gold, refits
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit
from loupe.web.schemas.common import Page
from loupe.web.schemas.projects import MemberOut
from loupe.web.schemas.quality import EscalationOut, GoldIn, GoldOut, QualityOut, RefitOut

router = APIRouter(tags=["quality"])


@router.put("/projects/{project_id}/gold", response_model=GoldOut)
def set_gold(project_id: Id, body: GoldIn, ctx: Writer) -> GoldOut:
    """Mark items as gold (honeypots) with their known answers."""
    answers = [(str(item.id), item.answer) for item in body.items]
    with gate_for(ctx.settings) as gate:
        marked = gold.set_gold(ctx.session, ctx.actor, project_id, answers, gate=gate)
    return GoldOut(marked=marked)


@router.get("/projects/{project_id}/quality", response_model=QualityOut)
def report(project_id: Id, ctx: Reader) -> QualityOut:
    """Agreement, per-annotator gold accuracy with 95% intervals, skills and escalations."""
    return QualityOut.model_validate(agreement.quality_report(ctx.session, ctx.actor, project_id))


@router.post("/projects/{project_id}/quality/refit", response_model=RefitOut)
def refit(project_id: Id, ctx: Writer) -> RefitOut:
    """Re-fit the project's aggregator now (it also runs in the background)."""
    authorize_project(ctx.session, ctx.actor, "projects.update", project_id)
    # End the request's transaction before the fit: like the background re-fit, it
    # snapshots, fits with no transaction open and writes in short transactions, so
    # submits never wait on the writer lock for a fit.
    ctx.session.commit()
    return RefitOut.model_validate(refits.refit_in_steps(ctx.db, project_id))


@router.get("/projects/{project_id}/escalations", response_model=Page[EscalationOut])
def escalations(
    project_id: Id, ctx: Reader, after: After = 0, limit: Limit = 100, open: bool = False
) -> Page[EscalationOut]:
    """Items on the escalation ladder (crowd -> expert -> adjudicator); ``open=true``: only
    those still waiting."""
    rows = escalation_queue.list_escalations(
        ctx.session, ctx.actor, project_id, after_id=after, limit=limit + 1, open_only=open
    )
    page = rows[:limit]
    return Page[EscalationOut](
        items=[EscalationOut.model_validate(row) for row in page],
        next_after=page[-1].item_id if len(rows) > limit else None,
    )


@router.post("/projects/{project_id}/members/{user_id}/resume", response_model=MemberOut)
def resume(project_id: Id, user_id: Id, ctx: Writer) -> MemberOut:
    """Lift a quality pause from a member."""
    return MemberOut.model_validate(
        definition.resume_member(ctx.session, ctx.actor, project_id, user_id)
    )
