"""Projects and their members."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from loupe.label_schema import LabelSchema
from loupe.web.schemas.common import Orm

__all__ = ["MemberIn", "MemberOut", "ProjectIn", "ProjectOut", "ProjectPatch"]


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    config: LabelSchema
    overlap: int = Field(default=1, ge=1, le=100, description="Labels wanted per item.")
    guidelines: str = Field(default="", max_length=100_000)
    description: str = Field(default="", max_length=10_000)


class ProjectPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: LabelSchema | None = None
    overlap: int | None = Field(default=None, ge=1, le=100)
    guidelines: str | None = Field(default=None, max_length=100_000)
    description: str | None = Field(default=None, max_length=10_000)


class ProjectOut(Orm):
    id: int
    name: str
    description: str
    guidelines: str
    overlap: int
    config: LabelSchema
    config_version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = Field(
        default=None, description="Set while archived: no tasks, imports or labels; readable"
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="manager, annotator, reviewer or auditor")


class MemberOut(Orm):
    project_id: int
    user_id: int
    role: str
