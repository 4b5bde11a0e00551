"""Labels and the gold feedback a submit may carry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm

__all__ = ["GoldFeedbackOut", "LabelIn", "LabelOut", "SubmitOut"]


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Any = Field(description="A label key (single_choice) or a list of keys (multi)")
    lead_time_ms: int | None = Field(default=None, description="Time spent on the item")


class LabelOut(Orm):
    id: int
    item_id: int
    user_id: int | None = Field(
        description="Who labelled; null for project reviewers and annotators (blind review)"
    )
    answer: Any
    config_version: int
    lead_time_ms: int | None
    created_at: datetime


class GoldFeedbackOut(Orm):
    correct: bool
    expected: Any = Field(description="The known answer, when the project gives feedback")
    paused: bool = Field(description="True when this answer paused you in the project")


class SubmitOut(LabelOut):
    """The recorded label; ``gold`` is set after a gold task when the project gives gold
    feedback (``quality.gold_feedback``), and null otherwise: without feedback a gold
    submit answers exactly as an ordinary one."""

    gold: GoldFeedbackOut | None = None
