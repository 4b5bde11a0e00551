"""Plain-SQL statements about the ``reputations`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class ReputationTier(NamedTuple):
    tier: str


TIER_IN_DOMAIN = Query(
    "SELECT tier FROM reputations WHERE user_id = :user AND domain = :domain", ReputationTier
)


class ReputationEvidence(NamedTuple):
    alpha_evidence: float
    beta_evidence: float
    as_of: Any  # read with Raw.time_out
    n_events: int


REPUTATION_STATE = Query(
    "SELECT alpha_evidence, beta_evidence, as_of, n_events FROM reputations "
    "WHERE user_id = :user AND domain = :domain",
    ReputationEvidence,
)
UPSERT_REPUTATION = (
    "INSERT INTO reputations (user_id, domain, alpha_evidence, beta_evidence, as_of, n_events, "
    "mean, lower, upper, tier) "
    "VALUES (:user, :domain, :a, :b, :as_of, :n, :mean, :lower, :upper, :tier) "
    "ON CONFLICT (user_id, domain) DO UPDATE SET alpha_evidence = excluded.alpha_evidence, "
    "beta_evidence = excluded.beta_evidence, as_of = excluded.as_of, "
    "n_events = excluded.n_events, mean = excluded.mean, lower = excluded.lower, "
    "upper = excluded.upper, tier = excluded.tier"
)


class DomainTier(NamedTuple):
    domain: str
    tier: str


TIERS_OF_USER = Query("SELECT domain, tier FROM reputations WHERE user_id = :user", DomainTier)


class ReputationDomain(NamedTuple):
    domain: str


EXPERT_DOMAINS = Query(
    "SELECT domain FROM reputations WHERE user_id = :user AND tier = 'expert'", ReputationDomain
)
