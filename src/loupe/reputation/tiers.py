"""Tiers: new < standard < trusted < expert, decided by rules written as data.

The rules are tried in order and the first that holds decides (:func:`tier_rules`):

======== ====================================================================================
new      fewer than ``new_below_n`` (5) weighted outcomes — too little evidence to judge
expert   lower bound >= ``expert_lower`` (0.85) and domain level >= ``expert_min_level`` (3)
trusted  lower bound >= ``trusted_lower`` (0.75)
standard otherwise
======== ====================================================================================

The lower bound is the reputation's 5% quantile: a tier is given on what we are 95% sure of, so
a short lucky streak does not unlock reviewing. The domain level comes from the contributor's
profile (a passed expert qualification, or a manager's grant): an excellent generalist is
trusted, not an expert. What each tier unlocks is :data:`TIER_UNLOCKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from loupe.errors import InvalidInput
from loupe.reputation.policy import ReputationPolicy, TierThresholds
from loupe.reputation.score import Reputation

__all__ = [
    "TIERS",
    "TIER_UNLOCKS",
    "Tier",
    "TierDecision",
    "TierRule",
    "TierUnlocks",
    "assign_tier",
    "tier_at_least",
    "tier_rules",
]

Tier = Literal["new", "standard", "trusted", "expert"]
TIERS: tuple[Tier, ...] = ("new", "standard", "trusted", "expert")
"""Every tier, lowest first."""


@dataclass(frozen=True)
class TierUnlocks:
    """What a tier may do: review others' work, take expert tasks, and its pay multiplier.

    ``pay_multiplier_bp`` is in basis points (10000 = 1x) so that pay stays integer arithmetic.
    """

    review: bool
    expert_tasks: bool
    pay_multiplier_bp: int


TIER_UNLOCKS: Mapping[Tier, TierUnlocks] = MappingProxyType(
    {
        # New contributors are paid like standard ones: they do the same work, and a lower
        # rate would punish the people whose record we have not yet seen.
        "new": TierUnlocks(review=False, expert_tasks=False, pay_multiplier_bp=10_000),
        "standard": TierUnlocks(review=False, expert_tasks=False, pay_multiplier_bp=10_000),
        "trusted": TierUnlocks(review=True, expert_tasks=False, pay_multiplier_bp=11_000),
        "expert": TierUnlocks(review=True, expert_tasks=True, pay_multiplier_bp=12_500),
    }
)


@dataclass(frozen=True)
class TierRule:
    """One row of the tier table: the tier, its condition in words, and the test."""

    tier: Tier
    condition: str
    holds: Callable[[Reputation, int], bool]


@dataclass(frozen=True)
class TierDecision:
    """The tier given, the rule that decided it (with the numbers) and what it unlocks."""

    tier: Tier
    rule: str
    unlocks: TierUnlocks


def tier_rules(thresholds: TierThresholds) -> tuple[TierRule, ...]:
    """The tier table for ``thresholds``, in the order the rules are tried."""
    t = thresholds
    return (
        TierRule(
            "new",
            f"fewer than {t.new_below_n:g} weighted results",
            lambda r, level: r.effective_n < t.new_below_n,
        ),
        TierRule(
            "expert",
            f"lower bound at least {t.expert_lower:g} and domain level at least "
            f"{t.expert_min_level}",
            lambda r, level: r.lower >= t.expert_lower and level >= t.expert_min_level,
        ),
        TierRule(
            "trusted",
            f"lower bound at least {t.trusted_lower:g}",
            lambda r, level: r.lower >= t.trusted_lower,
        ),
        TierRule(
            "standard",
            f"at least {t.new_below_n:g} weighted results and lower bound below "
            f"{t.trusted_lower:g}",
            # The four rows cover every case: expert_lower >= trusted_lower (TierThresholds).
            lambda r, level: r.effective_n >= t.new_below_n and r.lower < t.trusted_lower,
        ),
    )


def assign_tier(
    reputation: Reputation, *, domain_level: int, policy: ReputationPolicy | None = None
) -> TierDecision:
    """The tier of a contributor with ``reputation`` and ``domain_level`` in the domain.

    >>> from datetime import datetime, timezone
    >>> from loupe.reputation.score import reputation_from_state, ReputationState
    >>> now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> r = reputation_from_state(ReputationState(40.0, 1.0, now))
    >>> d = assign_tier(r, domain_level=3)
    >>> d.tier, d.unlocks.pay_multiplier_bp
    ('expert', 12500)
    >>> print(d.rule)
    expert: lower bound at least 0.85 and domain level at least 3 (41.0 weighted results, \
lower bound 0.894, domain level 3)
    >>> assign_tier(r, domain_level=1).tier
    'trusted'
    """
    if isinstance(domain_level, bool) or not isinstance(domain_level, int) or domain_level < 0:
        raise InvalidInput(
            f"domain_level must be a whole number >= 0, got {domain_level!r}",
            details={"field": "domain_level"},
        )
    policy = policy or ReputationPolicy()
    facts = (
        f"{reputation.effective_n:.1f} weighted results, lower bound {reputation.lower:.3f}, "
        f"domain level {domain_level}"
    )
    rule = next(r for r in tier_rules(policy.tiers) if r.holds(reputation, domain_level))
    return TierDecision(
        tier=rule.tier,
        rule=f"{rule.tier}: {rule.condition} ({facts})",
        unlocks=TIER_UNLOCKS[rule.tier],
    )


def tier_at_least(tier: Tier, minimum: Tier) -> bool:
    """Whether ``tier`` is ``minimum`` or above.

    >>> tier_at_least("expert", "trusted"), tier_at_least("standard", "trusted")
    (True, False)
    """
    return TIERS.index(tier) >= TIERS.index(minimum)
