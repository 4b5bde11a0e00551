"""``/projects/{id}/items/{id}/reveal``: an item's original, for a cleared user, audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.services.compliance import reveals
from loupe.services.compliance.gate import vault_for
from loupe.web.deps import Writer
from loupe.web.params import Id

router = APIRouter(tags=["items"])


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(
        max_length=reveals.MAX_PURPOSE,
        description="Why you need the raw item; recorded in the audit log",
    )


class RevealOut(BaseModel):
    item_id: int
    external_id: str
    sensitivity: str
    data: dict[str, Any] = Field(description="The original, unredacted data")
    redacted: dict[str, Any] = Field(description="What annotators see")
    metadata: dict[str, Any] = Field(description="The original, unredacted metadata")
    redacted_metadata: dict[str, Any] = Field(description="The metadata others see")
    spans: dict[str, list[list[Any]]] = Field(
        description="Per field path (`text`, `contact.phone`, `metadata.note`): "
        "[original_start, original_end, redacted_start, redacted_end, type]"
    )
    detected: list[str]
    withheld_reason: str | None
    audit_seq: int


@router.post("/projects/{project_id}/items/{item_id}/reveal", response_model=RevealOut)
def reveal(project_id: Id, item_id: Id, body: RevealIn, ctx: Writer) -> RevealOut:
    """The raw item, for project managers and reviewers with a clearance for its class.

    Every reveal is recorded in the audit log with its purpose.
    """
    shown = reveals.reveal_item(
        ctx.session,
        ctx.actor,
        project_id,
        item_id,
        purpose=body.purpose,
        vault=vault_for(ctx.settings),
        min_purpose=ctx.settings.reveal_min_purpose,
    )
    return RevealOut.model_validate(shown, from_attributes=True)
