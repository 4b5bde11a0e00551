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

_INSERT = (
    "INSERT INTO reputation_events (user_id, domain, project_id, kind, success, weight, ref, "
    "created_at) VALUES (:user, :domain, :project, :kind, :success, :weight, :ref, :now)"
)
_STATE = (
    "SELECT alpha_evidence, beta_evidence, as_of, n_events FROM reputations "
    "WHERE user_id = :user AND domain = :domain"
)
_LEVEL = (
    "SELECT level FROM contributor_domains WHERE user_id = :user AND domain = :domain "
    "AND (expires_at IS NULL OR expires_at > :now)"
)
_UPSERT = (
    "INSERT INTO reputations (user_id, domain, alpha_evidence, beta_evidence, as_of, n_events, "
    "mean, lower, upper, tier) "
    "VALUES (:user, :domain, :a, :b, :as_of, :n, :mean, :lower, :upper, :tier) "
    "ON CONFLICT (user_id, domain) DO UPDATE SET alpha_evidence = excluded.alpha_evidence, "
    "beta_evidence = excluded.beta_evidence, as_of = excluded.as_of, "
    "n_events = excluded.n_events, mean = excluded.mean, lower = excluded.lower, "
    "upper = excluded.upper, tier = excluded.tier"
)
_TIERS = "SELECT domain, tier FROM reputations WHERE user_id = :user"
_EXPERT = "SELECT domain FROM reputations WHERE user_id = :user AND tier = 'expert'"


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
        _INSERT,
        user=user_id,
        domain=domain,
        project=project_id,
        kind=kind,
        success=float(success),
        weight=weight,
        ref=ref[:100],
        now=raw.time(now),
    )
    row = raw.one(_STATE, user=user_id, domain=domain)
    if row is None:
        state, n = ReputationState(alpha_evidence=0.0, beta_evidence=0.0, as_of=now), 0
    else:
        state = ReputationState(
            alpha_evidence=float(row[0]), beta_evidence=float(row[1]), as_of=raw.time_out(row[2])
        )
        n = int(row[3])
    # Another transaction's clock may be a little ahead: never move a state back in time.
    state = advance(state, evidence, now=max(now, state.as_of), policy=POLICY)
    reputation = reputation_from_state(state, policy=POLICY)
    level_row = raw.one(_LEVEL, user=user_id, domain=domain, now=raw.time(now))
    decision = assign_tier(
        reputation, domain_level=int(level_row[0]) if level_row else 0, policy=POLICY
    )
    raw.run(
        _UPSERT,
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
    return {str(domain): str(tier) for domain, tier in raw.all(_TIERS, user=user_id)}


def expert_domains(raw: Raw, user_id: int, profile: Profile, expert_level: int) -> set[str]:
    """Domains where the contributor may answer escalated items."""
    by_level = {domain for domain, level in profile.levels.items() if level >= expert_level}
    by_reputation = {str(row[0]) for row in raw.all(_EXPERT, user=user_id)}
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
        level_row = raw.one(_LEVEL, user=user_id, domain=name, now=raw.time(now))
        decision = assign_tier(
            reputation, domain_level=int(level_row[0]) if level_row else 0, policy=POLICY
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
