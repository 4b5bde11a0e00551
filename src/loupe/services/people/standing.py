"""Reputation: evidence in, a per-domain skill estimate and tier out (``loupe.reputation``).

Evidence comes from gold tasks and qualification questions (``gold``), peer reviews of
one's labels (``review_received``), one's own reviews checked against gold
(``review_check``) and agreement with what experts settled (``consensus``). Each
piece is appended to ``reputation_events`` (never changed) and folded into the
contributor's ``reputations`` row for that domain incrementally, which equals
recomputing from all events (``loupe.reputation`` proves this by a property test).

The stored tier is the tier as of the last evidence; :func:`explain` recomputes at
the current time, with every input and its decayed weight, so a score can always be
traced to what produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import Reputation as StoredReputation
from loupe.db.contributor_models import ReputationEvent
from loupe.db.models import User, utcnow
from loupe.db.queries.contributor_domains import LIVE_DOMAIN_LEVEL
from loupe.db.queries.reputation_events import INSERT_REPUTATION_EVENT
from loupe.db.queries.reputations import (
    EXPERT_DOMAINS,
    REPUTATION_STATE,
    TIERS_OF_USER,
    UPSERT_REPUTATION,
)
from loupe.db.raw import Raw
from loupe.errors import NotFound
from loupe.permissions import require
from loupe.reputation import (
    TIER_UNLOCKS,
    Evidence,
    Reputation,
    ReputationPolicy,
    ReputationState,
    TierDecision,
    advance,
    assign_tier,
    reputation_from_state,
    score,
)
from loupe.routing import Profile
from loupe.services.access import Actor

__all__ = [
    "DomainReputation",
    "NewEvidence",
    "expert_domains",
    "explain",
    "record_evidence",
    "record_many",
    "standings",
    "tiers_of",
]

POLICY = ReputationPolicy()


def record_evidence(
    session: Session,
    *,
    user_id: int,
    domain: str,
    project_id: int | None,
    kind: str,
    success: float,
    ref: str,
    now: datetime,
) -> None:
    """Append one piece of evidence and fold it into the contributor's standing."""
    raw = Raw(session)
    # The kind's weight (e.g. consensus counts a quarter of gold) is the policy's, applied
    # when scoring; the event keeps its own weight, 1.
    weight = 1.0
    evidence = Evidence(kind=kind, success=success, weight=weight, at=now, ref=ref)  # type: ignore[arg-type]
    raw.run(
        INSERT_REPUTATION_EVENT,
        user=user_id,
        domain=domain,
        project=project_id,
        kind=kind,
        success=float(success),
        weight=weight,
        ref=ref[:100],
        now=raw.time(now),
    )
    stored = raw.one(REPUTATION_STATE, user=user_id, domain=domain)
    if stored is None:
        state, n = ReputationState(alpha_evidence=0.0, beta_evidence=0.0, as_of=now), 0
    else:
        state = ReputationState(
            alpha_evidence=float(stored.alpha_evidence),
            beta_evidence=float(stored.beta_evidence),
            as_of=raw.time_out(stored.as_of),
        )
        n = int(stored.n_events)
    # Another transaction's clock may be a little ahead: never move a state back in time.
    state = advance(state, evidence, now=max(now, state.as_of), policy=POLICY)
    reputation = reputation_from_state(state, policy=POLICY)
    level = raw.one(LIVE_DOMAIN_LEVEL, user=user_id, domain=domain, now=raw.time(now))
    decision = assign_tier(reputation, domain_level=int(level.level) if level else 0, policy=POLICY)
    raw.run(
        UPSERT_REPUTATION,
        user=user_id,
        domain=domain,
        a=state.alpha_evidence,
        b=state.beta_evidence,
        as_of=raw.time(state.as_of),
        n=n + 1,
        mean=reputation.mean,
        lower=reputation.lower,
        upper=reputation.upper,
        tier=decision.tier,
    )


@dataclass(frozen=True, slots=True)
class NewEvidence:
    user_id: int
    domain: str
    kind: str
    success: float
    ref: str


def record_many(
    session: Session, evidence: list[NewEvidence], *, project_id: int | None, now: datetime
) -> None:
    """:func:`record_evidence` for several contributors in one transaction, in a fixed
    order (user, domain): each locks its contributor's row, and two transactions that
    lock the same rows in the same order cannot deadlock (PostgreSQL)."""
    for piece in sorted(evidence, key=lambda e: (e.user_id, e.domain, e.ref)):
        record_evidence(
            session,
            user_id=piece.user_id,
            domain=piece.domain,
            project_id=project_id,
            kind=piece.kind,
            success=piece.success,
            ref=piece.ref,
            now=now,
        )


def tiers_of(raw: Raw, user_id: int) -> dict[str, str]:
    """The contributor's stored tier per domain (domains without evidence are absent)."""
    return {str(row.domain): str(row.tier) for row in raw.all(TIERS_OF_USER, user=user_id)}


def expert_domains(raw: Raw, user_id: int, profile: Profile, expert_level: int) -> set[str]:
    """Domains where the contributor may answer escalated items."""
    by_level = {domain for domain, level in profile.levels.items() if level >= expert_level}
    by_reputation = {str(row.domain) for row in raw.all(EXPERT_DOMAINS, user=user_id)}
    return by_level | by_reputation


@dataclass(frozen=True, slots=True)
class DomainReputation:
    user_id: int
    domain: str
    reputation: Reputation
    tier: TierDecision

    @property
    def unlocks(self) -> list[str]:
        granted = TIER_UNLOCKS[self.tier.tier]
        return [
            name
            for name, on in (("review", granted.review), ("expert_tasks", granted.expert_tasks))
            if on
        ]

    @property
    def pay_multiplier_bp(self) -> int:
        return int(TIER_UNLOCKS[self.tier.tier].pay_multiplier_bp)


def explain(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    domain: str | None = None,
    now: datetime | None = None,
) -> list[DomainReputation]:
    """A contributor's reputation per domain, recomputed now from every input.

    Contributors see their own; others need ``reputation.read``.
    """
    if actor.user_id != user_id:
        require(actor.role, "reputation.read")
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    now = now or utcnow()
    query = select(ReputationEvent).where(ReputationEvent.user_id == user_id)
    if domain is not None:
        query = query.where(ReputationEvent.domain == domain)
    events: dict[str, list[Evidence]] = {}
    for event in session.scalars(query.order_by(ReputationEvent.id)):
        events.setdefault(event.domain, []).append(
            Evidence(
                kind=event.kind,  # type: ignore[arg-type]
                success=event.success,
                weight=event.weight,
                at=event.created_at,
                ref=event.ref,
            )
        )
    raw = Raw(session)
    out = []
    for name in sorted(events):
        reputation = score(events[name], now=now, policy=POLICY)
        level = raw.one(LIVE_DOMAIN_LEVEL, user=user_id, domain=name, now=raw.time(now))
        decision = assign_tier(
            reputation, domain_level=int(level.level) if level else 0, policy=POLICY
        )
        out.append(DomainReputation(user_id, name, reputation, decision))
    return out


def standings(session: Session, user_ids: Sequence[int]) -> list[tuple[int, str, float, str]]:
    """``(user_id, domain, mean, tier)`` of these users' reputations, best mean first."""
    rows = session.execute(
        select(
            StoredReputation.user_id,
            StoredReputation.domain,
            StoredReputation.mean,
            StoredReputation.tier,
        )
        .where(StoredReputation.user_id.in_(list(user_ids)))
        .order_by(StoredReputation.mean.desc(), StoredReputation.user_id)
    ).all()
    return [(user_id, domain, mean, tier) for user_id, domain, mean, tier in rows]
