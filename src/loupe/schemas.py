"""The shapes of the HTTP API (request and response bodies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from loupe.label_schema import LabelSchema

__all__ = [
    "ErrorBody",
    "ErrorDetail",
    "EscalationOut",
    "GoldFeedbackOut",
    "GoldIn",
    "GoldItemIn",
    "GoldOut",
    "GoldStatOut",
    "ImportOut",
    "ItemIn",
    "ItemOut",
    "ItemsIn",
    "LabelIn",
    "LabelOut",
    "MediaOut",
    "MediaRegionOut",
    "MemberIn",
    "MemberOut",
    "NextTaskOut",
    "Page",
    "PairStatOut",
    "ProjectIn",
    "ProjectOut",
    "ProjectPatch",
    "QualityOut",
    "RefitOut",
    "SubmitOut",
    "TaskOut",
    "TokenIn",
    "TokenIssued",
    "TokenOut",
    "UserIn",
    "UserOut",
]

T = TypeVar("T")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    """A page of results; pass ``next_after`` as ``after`` to get the next one."""

    items: list[T]
    next_after: int | None


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    role: str = Field(description="admin, manager, annotator, reviewer or auditor")
    display_name: str = Field(default="", max_length=200)


class UserOut(Orm):
    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    expires_at: datetime | None = Field(
        default=None, description="When the token stops working; null (default): until revoked"
    )


class TokenOut(Orm):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None


class TokenIssued(TokenOut):
    token: str = Field(description="The secret, shown this once; only its hash is stored.")


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


class ItemIn(BaseModel):
    """One item; fields other than the reserved ones become the item's data."""

    model_config = ConfigDict(extra="allow")

    id: str | int | None = None
    language: str | None = None
    domain: str | None = None
    metadata: dict[str, Any] | None = None


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(
        description="Items as objects: id, language, domain, metadata, and data fields "
        "(at least the project's text field)."
    )


class ImportOut(BaseModel):
    received: int
    created: int
    existing: int
    withheld: int = Field(
        description="New items the privacy gate withheld: stored, never shown to anyone "
        "(see docs/privacy.md); `loupe privacy withheld` lists why."
    )


class MediaRegionOut(BaseModel):
    type: str = Field(description="What the privacy gate pixelated: FACE, LICENSE_PLATE, EMAIL...")
    x: int
    y: int
    width: int
    height: int


class MediaOut(BaseModel):
    """One media part of an item (loupe.services.media_views.MediaEntry)."""

    field: str
    kind: str = Field(description="image or audio")
    url: str | None = Field(
        description="The gated bytes: /api/v1/media/<sha256>; null for audio when you hold "
        "no voice clearance for the project (`restricted` says so)"
    )
    sha256: str | None = Field(description="Of the served bytes; null when `url` is")
    mime: str
    width: int | None
    height: int | None
    regions: list[MediaRegionOut] = Field(description="Regions the privacy gate pixelated")
    duration_ms: int | None = Field(default=None, description="Audio: the recording's length")
    sample_rate: int | None = Field(default=None, description="Audio: samples per second")
    restricted: str | None = Field(
        default=None,
        description='"voice": raw audio you may not hear (no voice clearance); work from '
        "the item's transcript",
    )


MEDIA_DESCRIPTION = "The item's media parts (images, audio), as the privacy gate left them"


class ItemOut(Orm):
    id: int
    external_id: str
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(validation_alias="meta")
    language: str | None
    domain: str
    label_count: int
    is_complete: bool
    created_at: datetime
    media: list[MediaOut] = Field(default_factory=list, description=MEDIA_DESCRIPTION)


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


class DayCountOut(Orm):
    day: date
    labels: int


class ContributorCountOut(Orm):
    username: str
    labels: int


class AgreementOut(Orm):
    fleiss_kappa: float | None = Field(description="null: no item has two labels yet")
    krippendorff_alpha: float | None
    items: int = Field(description="Items with at least two labels")
    labels: int = Field(description="The labels counted")
    definition: str


class ProgressOut(Orm):
    """A project's progress: the figures of the manager dashboard."""

    project_id: int
    name: str
    overlap: int
    items: int = Field(description="All items: the five figures below add up to it")
    model_resolved: int = Field(description="Resolved by the model; no person labelled them")
    settled: int = Field(description="Labelled by people, all the labels needed, not escalated")
    waiting: int = Field(description="Waiting for people: short of labels, or escalated")
    gold: int = Field(description="Gold checks (outside the overlap)")
    withheld: int = Field(description="Held back by the privacy gate")
    labelled: int = Field(description="Items with at least one label")
    labels: int = Field(description="Human labels, gold checks included")
    per_day: list[DayCountOut]
    contributors: list[ContributorCountOut]
    agreement: AgreementOut
    cost: dict[str, int] | None = Field(
        description="Currency -> minor units spent (payouts excluded); null unless you "
        "manage payments"
    )


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
