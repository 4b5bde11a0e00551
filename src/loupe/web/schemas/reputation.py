"""Contributor reputation: per-domain skill with its uncertainty and inputs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["ContributionOut", "ReputationOut"]


class ContributionOut(BaseModel):
    kind: str
    ref: str
    at: datetime
    success: float
    weight: float
    decayed_weight: float


class ReputationOut(BaseModel):
    user_id: int
    domain: str
    mean: float = Field(description="Posterior mean skill")
    lower: float = Field(description="5% posterior quantile")
    upper: float = Field(description="95% posterior quantile")
    alpha: float
    beta: float
    effective_n: float
    tier: str
    tier_rule: str = Field(description="The rule that decided the tier, in words")
    unlocks: list[str]
    pay_multiplier_bp: int
    contributions: list[ContributionOut] | None = Field(
        default=None, description="Every input with its decayed weight (when explained)"
    )
