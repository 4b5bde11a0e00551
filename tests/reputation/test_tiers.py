from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loupe.errors import InvalidInput
from loupe.reputation import (
    TIER_UNLOCKS,
    TIERS,
    Reputation,
    ReputationPolicy,
    Tier,
    TierThresholds,
    assign_tier,
    tier_at_least,
    tier_rules,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def rep(effective_n: float, lower: float) -> Reputation:
    return Reputation(
        alpha=1.0, beta=1.0, mean=0.5, lower=lower, upper=1.0, effective_n=effective_n, as_of=NOW
    )


@pytest.mark.parametrize(
    ("effective_n", "lower", "level", "tier", "rule"),
    [
        (0.0, 0.0, 0, "new", "new: fewer than 5 weighted results (0.0 weighted results"),
        (4.9, 0.99, 5, "new", "new: fewer than 5 weighted results (4.9"),
        (
            5.0,
            0.5,
            0,
            "standard",
            "standard: at least 5 weighted results and lower bound below 0.75",
        ),
        (50.0, 0.7499, 3, "standard", "standard:"),
        (
            5.0,
            0.75,
            0,
            "trusted",
            "trusted: lower bound at least 0.75 (5.0 weighted results, lower bound 0.750, domain level 0)",
        ),
        (80.0, 0.95, 2, "trusted", "trusted: lower bound at least 0.75"),  # excellent, but level 2
        (80.0, 0.8499, 3, "trusted", "trusted:"),
        (20.0, 0.85, 3, "expert", "expert: lower bound at least 0.85 and domain level at least 3"),
        (20.0, 0.99, 7, "expert", "expert:"),
    ],
)
def test_tier_table(effective_n: float, lower: float, level: int, tier: Tier, rule: str) -> None:
    decision = assign_tier(rep(effective_n, lower), domain_level=level, policy=ReputationPolicy())
    assert decision.tier == tier
    assert decision.rule.startswith(rule)
    assert decision.unlocks == TIER_UNLOCKS[tier]


def test_unlocks() -> None:
    assert [TIER_UNLOCKS[t].review for t in TIERS] == [False, False, True, True]
    assert [TIER_UNLOCKS[t].expert_tasks for t in TIERS] == [False, False, False, True]
    assert [TIER_UNLOCKS[t].pay_multiplier_bp for t in TIERS] == [10_000, 10_000, 11_000, 12_500]
    assert tier_at_least("trusted", "trusted") and tier_at_least("expert", "new")
    assert not tier_at_least("new", "standard")


def test_thresholds_come_from_the_policy() -> None:
    policy = ReputationPolicy(
        tiers=TierThresholds(new_below_n=0, trusted_lower=0.5, expert_min_level=1)
    )
    assert assign_tier(rep(0.0, 0.6), domain_level=0, policy=policy).tier == "trusted"
    assert assign_tier(rep(0.0, 0.9), domain_level=1, policy=policy).tier == "expert"
    assert [r.tier for r in tier_rules(policy.tiers)] == ["new", "expert", "trusted", "standard"]


@pytest.mark.parametrize("n", [0.0, 3.0, 5.0, 100.0])
@pytest.mark.parametrize("lower", [0.0, 0.5, 0.75, 0.8, 0.85, 0.99])
@pytest.mark.parametrize("level", [0, 2, 3])
def test_the_first_rule_that_holds_decides(n: float, lower: float, level: int) -> None:
    """The table is exhaustive and read top-down, like the module docstring's table."""
    rules = tier_rules(TierThresholds())
    holding = [r.tier for r in rules if r.holds(rep(n, lower), level)]
    assert holding
    assert assign_tier(rep(n, lower), domain_level=level).tier == holding[0]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_domain_level_is_checked(bad: object) -> None:
    with pytest.raises(InvalidInput, match="domain_level must be a whole number"):
        assign_tier(rep(10, 0.9), domain_level=bad)  # type: ignore[arg-type]
