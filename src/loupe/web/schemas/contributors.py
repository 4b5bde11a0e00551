"""Contributor profiles: domain levels, languages, clearances and qualification records."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm

__all__ = [
    "ClearanceHeldOut",
    "DomainGrantIn",
    "DomainGrantOut",
    "DomainLevelOut",
    "LanguagesIn",
    "LanguagesOut",
    "ProfileOut",
    "QualificationRecordOut",
]


class DomainLevelOut(Orm):
    domain: str
    level: int = Field(description="1 qualified, 2 advanced, 3 expert")
    source: str = Field(description="manager, or qualification:<test id>")
    granted_by: int | None
    expires_at: datetime | None
    expired: bool = Field(description="An expired level counts as none")


class ClearanceHeldOut(Orm):
    project_id: int
    sensitivity: str
    expires_at: datetime | None
    expired: bool


class QualificationRecordOut(Orm):
    """A contributor's attempts at one qualification test: scores, never answers."""

    test_id: int
    project_id: int
    name: str
    domain: str
    level: int
    attempts: int = Field(description="Finished attempts")
    passed: bool
    best_score: float | None
    last_finished_at: datetime | None
    in_progress: bool


class ProfileOut(Orm):
    user_id: int
    username: str
    role: str
    domains: list[DomainLevelOut]
    languages: list[str] = Field(description="Lower-case primary subtags, e.g. de, pt")
    clearances: list[ClearanceHeldOut]
    qualifications: list[QualificationRecordOut]


class LanguagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    languages: list[str] = Field(
        max_length=200, description="Language tags such as de, en or pt-BR; stored as de, en, pt"
    )


class LanguagesOut(BaseModel):
    user_id: int
    languages: list[str]


class DomainGrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(description="1 qualified, 2 advanced, 3 expert")
    expires_at: datetime | None = Field(default=None, description="null: until revoked")


class DomainGrantOut(Orm):
    user_id: int
    domain: str
    level: int
    source: str
    granted_by: int | None
    expires_at: datetime | None
    created_at: datetime
