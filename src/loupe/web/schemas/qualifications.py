"""Qualification tests: questions, attempts and grades (never the known answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm

__all__ = [
    "AttemptOut",
    "AttemptResultOut",
    "QualificationIn",
    "QualificationOut",
    "QuestionIn",
    "QuestionOut",
    "SubmitAttemptIn",
]


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(description="The item's fields: at least the project's text")
    answer: Any = Field(description="The known answer, valid under the project's label schema")


class QualificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    domain: str = Field(description="The domain whose level a pass grants, e.g. medical")
    level: int = Field(
        default=1, description="Granted on a pass: 1 qualified, 2 advanced, 3 expert"
    )
    pass_mark: float = Field(
        default=0.8, description="Share of questions to get right (0 < x <= 1)"
    )
    max_attempts: int = Field(default=3, description="Tries allowed (a pass starts a new count)")
    retry_after_hours: int = Field(default=24, description="Wait after a failed attempt")
    valid_days: int | None = Field(
        default=None, description="How long a granted level lasts; null: until revoked"
    )
    questions: list[QuestionIn] = Field(description="At least 3, with known answers")


class QualificationOut(Orm):
    """A qualification test; its questions' answers are never sent."""

    id: int
    project_id: int
    name: str
    domain: str
    level: int
    pass_mark: float
    max_attempts: int
    retry_after_hours: int
    valid_days: int | None
    n_questions: int
    created_at: datetime


class QuestionOut(Orm):
    index: int = Field(description="Answer this question under this index")
    data: dict[str, Any]


class AttemptOut(Orm):
    """An attempt's questions, in an order shuffled for this attempt; no answers."""

    id: int
    test_id: int
    user_id: int
    started_at: datetime
    questions: list[QuestionOut]


class SubmitAttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[int, Any] = Field(
        description='Question index -> answer, e.g. {"0": "call", "2": "music"}; '
        "a missing answer counts as wrong"
    )


class AttemptResultOut(Orm):
    """The grade: how many answers were right, never which or what the right ones were."""

    attempt_id: int
    test_id: int
    passed: bool
    n_correct: int
    n_total: int
    score: float
    pass_mark: float
    domain: str
    level: int = Field(description="The level you now hold in the domain (0: none)")
    level_expires_at: datetime | None
    attempts_left: int = Field(description="0 after a pass: the test is closed while you hold it")
    retry_after: datetime | None = Field(
        description="When your next attempt may start; null when none is left"
    )
