"""Annotation tasks: the next item to label, under a lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from loupe.web.schemas.media import MEDIA_DESCRIPTION, MediaOut

__all__ = ["NextTaskOut", "TaskOut"]


class TaskOut(BaseModel):
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    lease_expires_at: datetime
    config_version: int
    media: list[MediaOut] = Field(default_factory=list, description=MEDIA_DESCRIPTION)


class NextTaskOut(BaseModel):
    task: TaskOut | None = Field(description="null when nothing is left for you")
