from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loupe.services.people import standing
from loupe.services.people.standing import DomainReputation
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.schemas.reputation import ContributionOut, ReputationOut

router = APIRouter(tags=["reputation"])

Explain = Annotated[bool, Query(description="Include every input with its decayed weight")]
Domain = Annotated[str | None, Query(max_length=32, description="Only this domain")]


def _out(row: DomainReputation, *, explain: bool) -> ReputationOut:
    rep = row.reputation
    return ReputationOut(
        user_id=row.user_id,
        domain=row.domain,
        mean=rep.mean,
        lower=rep.lower,
        upper=rep.upper,
        alpha=rep.alpha,
        beta=rep.beta,
        effective_n=rep.effective_n,
        tier=row.tier.tier,
        tier_rule=row.tier.rule,
        unlocks=row.unlocks,
        pay_multiplier_bp=row.pay_multiplier_bp,
        contributions=[
            ContributionOut(
                kind=c.evidence.kind,
                ref=c.evidence.ref,
                at=c.evidence.at,
                success=c.evidence.success,
                weight=c.evidence.weight,
                decayed_weight=c.weight,
            )
            for c in rep.contributions
        ]
        if explain
        else None,
    )


@router.get("/me/reputation", response_model=list[ReputationOut])
def mine(ctx: Reader, explain: Explain = False, domain: Domain = None) -> list[ReputationOut]:
    """Your reputation per domain, recomputed now, with the rule that set each tier."""
    user_id = ctx.actor.user_id
    if user_id is None:
        return []
    rows = standing.explain(ctx.session, ctx.actor, user_id, domain=domain)
    return [_out(row, explain=explain) for row in rows]


@router.get("/users/{user_id}/reputation", response_model=list[ReputationOut])
def of_user(
    user_id: Id, ctx: Reader, explain: Explain = False, domain: Domain = None
) -> list[ReputationOut]:
    """A contributor's reputation per domain (yourself, or with ``reputation.read``)."""
    rows = standing.explain(ctx.session, ctx.actor, user_id, domain=domain)
    return [_out(row, explain=explain) for row in rows]
