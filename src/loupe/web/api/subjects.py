"""``/subjects``: a data subject's export and erasure (admins), and retention runs.

Subject ids travel in request bodies, not URLs, so they stay out of access logs.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.learning.persistence import ModelStore
from loupe.services.compliance import retention, subjects
from loupe.services.compliance.gate import vault_for
from loupe.services.compliance.vault import load_ref_key
from loupe.web.deps import Writer

router = APIRouter(tags=["subjects"])


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=255)


class ScrubOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    backend: Literal["sqlite", "postgresql"]
    complete: bool = Field(description="False: the erased rows may remain in the files; see detail")
    action: str = Field(description="wal_checkpoint(TRUNCATE) on SQLite, VACUUM on PostgreSQL")
    detail: str


class ErasureOut(BaseModel):
    receipt: dict[str, Any]
    sha256: str = Field(description="sha256 of the receipt's canonical JSON")
    model_files_deleted: list[str] = Field(description="Files of retired models, deleted")
    storage: ScrubOut = Field(description="The scrub of the database files after commit")


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
        ctx.session,
        ctx.actor,
        body.subject_id,
        vault=vault_for(ctx.settings),
        ref_key=load_ref_key(ctx.settings.resolved_key_dir()),
    )
    return SubjectExportOut.model_validate(found, from_attributes=True)


@router.post("/subjects/erase", response_model=ErasureOut)
def erase_subject(body: SubjectIn, ctx: Writer) -> ErasureOut:
    """Erase a subject: items, labels and originals deleted, key shredded, models trained on
    them retired (admins). Audited. Answered once the erased rows are scrubbed from disk."""
    ref_key = load_ref_key(ctx.settings.resolved_key_dir())
    erasure = subjects.erase_subject(ctx.session, ctx.actor, body.subject_id, ref_key=ref_key)
    # The scrub only sees committed deletions: commit now, not after the handler.
    ctx.session.commit()
    done = subjects.finish_erasure(ctx.db, store=ModelStore(ctx.settings.resolved_model_dir()))
    return ErasureOut(
        receipt=erasure.receipt,
        sha256=erasure.sha256,
        model_files_deleted=done.model_files_deleted,
        storage=ScrubOut.model_validate(done.storage),
    )


@router.post("/retention/run", response_model=RetentionOut)
def run_retention(ctx: Writer) -> RetentionOut:
    """Purge items past their project's retention now (admins; e.g. from a daily cron)."""
    run = retention.run_retention(ctx.session, ctx.actor)
    return RetentionOut(
        items_deleted=run.items_deleted,
        purges=[PurgeOut.model_validate(p, from_attributes=True) for p in run.purges],
    )
