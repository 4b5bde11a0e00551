"""Peer review: blind review tasks, verdicts and the review record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.media import MEDIA_DESCRIPTION, MediaOut

__all__ = ["NextReviewOut", "ReviewIn", "ReviewOut", "ReviewRecordOut", "ReviewTaskOut"]


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
