"""Request and response bodies of peer review, the escalation ladder and reputation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loupe.schemas import MEDIA_DESCRIPTION, MediaOut

__all__ = [
    "ContributionOut",
    "EscalationDetailOut",
    "ExpertTaskOut",
    "FlagIn",
    "NextExpertTaskOut",
    "NextReviewOut",
    "ReputationOut",
    "ResolveIn",
    "ReviewIn",
    "ReviewOut",
    "ReviewRecordOut",
    "ReviewTaskOut",
]


class ReviewTaskOut(BaseModel):
    """A blind review task: the item as gated and the answer under review, not its author."""

    label_id: int
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    answer: Any
    other_answers: list[Any] | None = Field(
        description="Other labels' answers (never who gave them); null when the project is blind"
    )
    lease_expires_at: datetime
    config_version: int
    media: list[MediaOut] = Field(default_factory=list, description=MEDIA_DESCRIPTION)


class NextReviewOut(BaseModel):
    review: ReviewTaskOut | None = Field(description="null when nothing waits for your review")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["accept", "reject", "correct"]
    reason: str = Field(default="", max_length=500, description="Required when rejecting")
    corrected_answer: Any = Field(default=None, description="Required with verdict 'correct'")


class ReviewOut(BaseModel):
    review_id: int
    label_id: int
    verdict: str
    status: str = Field(description="The label's: pending, accepted or rejected")
    correction_label_id: int | None


class ReviewRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    label_id: int | None
    labeller_id: int | None = Field(description="null unless you manage or audit the project")
    reviewer_id: int | None = Field(description="null unless you manage or audit the project")
    verdict: str
    reason: str
    reviewed_answer: Any
    corrected_answer: Any
    created_at: datetime


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why it needs an expert")


class EscalationDetailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: int
    stage: str
    reason: str
    confidence: float
    n_labels: int
    flagged_by: int | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None
    answer: Any


class ExpertTaskOut(BaseModel):
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    reason: str
    lease_expires_at: datetime
    config_version: int
    media: list[MediaOut] = Field(default_factory=list, description=MEDIA_DESCRIPTION)


class NextExpertTaskOut(BaseModel):
    task: ExpertTaskOut | None = Field(description="null when no escalated item waits for you")


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Any = Field(default=None, description="The item's answer")
    pass_up: str | None = Field(
        default=None, max_length=500, description="Experts only: why an adjudicator must decide"
    )


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


class SystemScoreOut(BaseModel):
    name: str
    log_strength: float = Field(description="Bradley-Terry log-strength, mean 0")
    wins: float = Field(description="Comparisons won (ties count half)")
    comparisons: float


class PreferenceRankingOut(BaseModel):
    systems: list[SystemScoreOut] = Field(description="Best first")
    n_comparisons: int
    n_skipped: int = Field(
        description="Labels on items that name no two systems as a_model/b_model (in their "
        "metadata or data)"
    )
