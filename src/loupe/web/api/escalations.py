from __future__ import annotations

from fastapi import APIRouter

from loupe.services.labelling import escalations
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.deps import LeaseWriter, Writer
from loupe.web.params import Id
from loupe.web.schemas.escalations import (
    EscalationDetailOut,
    ExpertTaskOut,
    FlagIn,
    NextExpertTaskOut,
    ResolveIn,
)

router = APIRouter(tags=["escalations"])


@router.post("/projects/{project_id}/items/{item_id}/flag", response_model=EscalationDetailOut)
def flag(project_id: Id, item_id: Id, body: FlagIn, ctx: Writer) -> EscalationDetailOut:
    """Send an item you are working on (or labelled) to a domain expert."""
    row = escalations.flag_item(ctx.session, ctx.actor, project_id, item_id, reason=body.reason)
    return EscalationDetailOut.model_validate(row)


@router.post("/projects/{project_id}/expert-tasks/next", response_model=NextExpertTaskOut)
def next_expert_task(project_id: Id, ctx: LeaseWriter) -> NextExpertTaskOut:
    """Reserve the next escalated item of your expert domains."""
    task = escalations.next_expert_task(
        ctx.session, ctx.actor, project_id, lease_seconds=ctx.settings.lease_seconds
    )
    return NextExpertTaskOut(
        task=ExpertTaskOut.model_validate(task, from_attributes=True) if task else None
    )


@router.post(
    "/projects/{project_id}/escalations/{item_id}/resolve", response_model=EscalationDetailOut
)
def resolve(project_id: Id, item_id: Id, body: ResolveIn, ctx: Writer) -> EscalationDetailOut:
    """Answer an escalated item (expert, then adjudicator), or pass it up with a reason."""
    row = escalations.resolve_escalation(
        ctx.session,
        ctx.actor,
        project_id,
        item_id,
        answer=body.answer,
        pass_up=body.pass_up,
        ledger=optional_ledger_config(ctx.settings),
    )
    return EscalationDetailOut.model_validate(row)
