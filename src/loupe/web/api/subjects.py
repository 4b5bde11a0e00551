"""``/subjects``: a data subject's export and erasure (admins), and retention runs.

Subject ids travel in request bodies, not URLs, so they stay out of access logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.services import retention, subjects
from loupe.services.gate import vault_for
from loupe.web.deps import Writer

router = APIRouter(tags=["subjects"])


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=255)


class ErasureOut(BaseModel):
    receipt: dict[str, Any]
    sha256: str = Field(description="sha256 of the receipt's canonical JSON")


class SubjectExportOut(BaseModel):
    subject_ref: str
    key_held: bool
    items: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]
    erasure_receipts: list[dict[str, Any]]


class PurgeOut(BaseModel):
    project_id: int
    retention_days: int
    items_deleted: int
    labels_deleted: int
    keys_shredded: int


class RetentionOut(BaseModel):
    items_deleted: int
    purges: list[PurgeOut]


@router.post("/subjects/export", response_model=SubjectExportOut)
def export_subject(body: SubjectIn, ctx: Writer) -> SubjectExportOut:
    """Everything held about a subject, originals included (admins). Audited."""
    found = subjects.export_subject(
        ctx.session, ctx.actor, body.subject_id, vault=vault_for(ctx.settings)
    )
    return SubjectExportOut.model_validate(found, from_attributes=True)


@router.post("/subjects/erase", response_model=ErasureOut)
def erase_subject(body: SubjectIn, ctx: Writer) -> ErasureOut:
    """Erase a subject: items, labels and originals deleted, key shredded (admins). Audited."""
    erasure = subjects.erase_subject(ctx.session, ctx.actor, body.subject_id)
    return ErasureOut(receipt=erasure.receipt, sha256=erasure.sha256)


@router.post("/retention/run", response_model=RetentionOut)
def run_retention(ctx: Writer) -> RetentionOut:
    """Purge items past their project's retention now (admins; e.g. from a daily cron)."""
    run = retention.run_retention(ctx.session, ctx.actor)
    return RetentionOut(
        items_deleted=run.items_deleted,
        purges=[PurgeOut.model_validate(p, from_attributes=True) for p in run.purges],
    )
