"""``/audit``: the hash-chained audit log, for auditors and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from loupe.services.access import authorize
from loupe.services.compliance import audit_log
from loupe.web.deps import Reader
from loupe.web.params import MAX_ID, After, Limit
from loupe.web.schemas.common import Page

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    project_id: int | None
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditCheckOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None
    reason: str | None


@router.get("/audit", response_model=Page[AuditEventOut])
def list_audit(
    ctx: Reader,
    after: After = 0,
    limit: Limit = 100,
    action: Annotated[str | None, Query(max_length=32, description="e.g. item.reveal")] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601)")] = None,
) -> Page[AuditEventOut]:
    """Audit events in order; pass ``next_after`` as ``after`` for the next page."""
    rows = audit_log.list_events(
        ctx.session,
        ctx.actor,
        after=after,
        limit=limit + 1,
        action=action,
        actor_id=actor_id,
        project_id=project_id,
        since=since,
        until=until,
    )
    page = rows[:limit]
    return Page[AuditEventOut](
        items=[AuditEventOut.model_validate(row) for row in page],
        next_after=page[-1].seq if len(rows) > limit else None,
    )


@router.get("/audit/verify", response_model=AuditCheckOut)
def verify_audit(ctx: Reader) -> AuditCheckOut:
    """Recompute the hash chain; ``first_bad_seq`` is where it breaks, if it does."""
    authorize(ctx.actor, "audit.read")
    check = audit_log.verify(ctx.session)
    return AuditCheckOut(
        ok=check.ok,
        checked=check.checked,
        head_seq=check.head_seq,
        first_bad_seq=check.first_bad_seq,
        reason=check.reason,
    )
