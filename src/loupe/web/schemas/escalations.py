"""The escalation ladder: flags, expert tasks and resolutions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.media import MEDIA_DESCRIPTION, MediaOut

__all__ = ["EscalationDetailOut", "ExpertTaskOut", "FlagIn", "NextExpertTaskOut", "ResolveIn"]


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
