"""Gold items, agreement and annotator quality, refits and the escalation list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm

__all__ = [
    "EscalationOut",
    "GoldIn",
    "GoldItemIn",
    "GoldOut",
    "GoldStatOut",
    "PairStatOut",
    "QualityOut",
    "RefitOut",
]


class GoldItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | int = Field(description="The item's external id")
    answer: Any


class GoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[GoldItemIn] = Field(min_length=1, max_length=10_000)


class GoldOut(BaseModel):
    marked: int


class GoldStatOut(Orm):
    user_id: int
    answered: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    paused_reason: str | None


class PairStatOut(Orm):
    user_a: int
    user_b: int
    shared_items: int
    observed: float
    kappa: float | None


class QualityOut(Orm):
    """Agreement and annotator quality for a project; agreement as ``agreement_definition``
    states it (the manager dashboard shows the same figures)."""

    n_labels: int = Field(description="The labels agreement counts")
    n_items_labelled: int
    n_items_paired: int = Field(description="Items with at least two of those labels")
    agreement_definition: str
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    fleiss_kappa_per_label: dict[str, float | None]
    pairwise: list[PairStatOut]
    gold: list[GoldStatOut]
    escalated: int
    skills: dict[int, float]


class RefitOut(Orm):
    project_id: int
    method: str
    n_labels: int
    n_items: int
    n_workers: int


class EscalationOut(Orm):
    item_id: int
    reason: str
    confidence: float
    n_labels: int
    created_at: datetime
    resolved_at: datetime | None
    stage: str = Field(description="expert or adjudicator: the rung it waits on")
    flagged_by: int | None = Field(description="who flagged it; null when the engine escalated")
