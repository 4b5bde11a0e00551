from __future__ import annotations

import pytest
from pydantic import ValidationError
from scipy.stats import beta

from loupe.reputation import EvidenceWeights, ReputationPolicy, TierThresholds


def test_defaults_are_the_documented_ones() -> None:
    policy = ReputationPolicy()
    assert (policy.prior_alpha, policy.prior_beta, policy.half_life_days) == (2.0, 1.0, 90.0)
    assert policy.weights == EvidenceWeights(
        gold=1.0, review_received=0.5, review_check=1.0, consensus=0.25
    )
    assert policy.weights.of("consensus") == 0.25
    assert policy.tiers == TierThresholds(
        new_below_n=5, trusted_lower=0.75, expert_lower=0.85, expert_min_level=3
    )
    # Nobody is trusted on the prior alone.
    assert beta.ppf(policy.lower_quantile, 2, 1) == pytest.approx(0.05**0.5)
    assert beta.ppf(policy.lower_quantile, 2, 1) < policy.tiers.trusted_lower


def test_policy_rejects_unknown_and_inconsistent_settings() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ReputationPolicy.model_validate({"half_life": 30})
    with pytest.raises(ValidationError, match="expert_lower"):
        TierThresholds(trusted_lower=0.9, expert_lower=0.8)
    with pytest.raises(ValidationError):
        ReputationPolicy(half_life_days=0)
    round_trip = ReputationPolicy.model_validate_json(ReputationPolicy().model_dump_json())
    assert round_trip == ReputationPolicy()
