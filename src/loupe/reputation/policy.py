"""The knobs of the reputation model, with defaults and the reasons for them."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loupe.reputation.evidence import EvidenceKind

__all__ = ["EvidenceWeights", "ReputationPolicy", "TierThresholds"]


class EvidenceWeights(BaseModel):
    """How much one outcome of each kind counts, relative to one gold answer (0 ignores a kind).

    * ``gold`` 1.0 — ground truth, the reference for everything else;
    * ``review_check`` 1.0 — a reviewer's verdict checked against gold is as hard a fact;
    * ``review_received`` 0.5 — a peer's verdict is an opinion: reviewers err and some are
      lenient, so two reviews weigh as one gold answer;
    * ``consensus`` 0.25 — agreement with consensus is partly self-referential (the
      contributor's own label is one of the votes) and shares the crowd's systematic errors,
      and it arrives in bulk: without a small weight it would drown out gold.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gold: float = Field(default=1.0, ge=0.0, le=100.0)
    review_received: float = Field(default=0.5, ge=0.0, le=100.0)
    review_check: float = Field(default=1.0, ge=0.0, le=100.0)
    consensus: float = Field(default=0.25, ge=0.0, le=100.0)

    def of(self, kind: EvidenceKind) -> float:
        """The weight of ``kind``."""
        return float(getattr(self, kind))


class TierThresholds(BaseModel):
    """Where the tiers begin (the rules themselves are in :mod:`loupe.reputation.tiers`).

    * ``new_below_n`` 5 — below five weighted outcomes a contributor is "new" whatever their
      score: the interval is still mostly prior;
    * ``trusted_lower`` 0.75 — trusted (may review) when we are 95% sure they are right at
      least three times in four;
    * ``expert_lower`` 0.85 with ``expert_min_level`` 3 — expert tasks need both a proven record
      and proven domain knowledge (a passed expert qualification or a manager's grant).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_below_n: float = Field(default=5.0, ge=0.0)
    trusted_lower: float = Field(default=0.75, gt=0.0, lt=1.0)
    expert_lower: float = Field(default=0.85, gt=0.0, lt=1.0)
    expert_min_level: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.expert_lower < self.trusted_lower:
            raise ValueError(
                f"expert_lower ({self.expert_lower}) must be at least "
                f"trusted_lower ({self.trusted_lower})"
            )
        return self


class ReputationPolicy(BaseModel):
    """A reputation is a Beta(alpha, beta) posterior over the share of a contributor's work that
    is right; these are its prior, its forgetting and its evidence weights.

    * ``prior_alpha`` 2, ``prior_beta`` 1 — a newcomer who passed onboarding is presumed mostly
      right (prior mean 2/3) but with the weight of only three outcomes, so their own record
      takes over within a handful of gold answers; the prior's 5% quantile (0.22) is far below
      every tier threshold, so no one is trusted on the prior alone;
    * ``half_life_days`` 90 — an outcome counts half after three months: recent work says more
      about today's skill (people improve, or stop caring) while a quarter's record still counts;
    * ``lower_quantile`` 0.05 and ``upper_quantile`` 0.95 — the 90% credible interval reported,
      whose lower end the tiers use (we act on what we are 95% sure of).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prior_alpha: float = Field(default=2.0, gt=0.0, le=1000.0)
    prior_beta: float = Field(default=1.0, gt=0.0, le=1000.0)
    half_life_days: float = Field(default=90.0, gt=0.0, le=36500.0)
    lower_quantile: float = Field(default=0.05, gt=0.0, lt=0.5)
    upper_quantile: float = Field(default=0.95, gt=0.5, lt=1.0)
    weights: EvidenceWeights = Field(default_factory=EvidenceWeights)
    tiers: TierThresholds = Field(default_factory=TierThresholds)
