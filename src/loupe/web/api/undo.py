"""``DELETE /projects/{id}/items/{item}/labels/mine``: take back your label (grace period)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from loupe.services.labelling import undo
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.deps import Writer
from loupe.web.params import Id

__all__ = ["router"]

router = APIRouter(tags=["labels"])


class UndoOut(BaseModel):
    item_id: int
    label_id: int = Field(description="the label that was withdrawn (it no longer exists)")
    answer: Any = Field(description="the withdrawn answer")
    label_count: int = Field(description="the item's labels after the undo")
    correction_index: int | None = Field(
        description="the ledger correction reversing the label's earning; null if none"
    )


@router.delete("/projects/{project_id}/items/{item_id}/labels/mine", response_model=UndoOut)
def undo_label(project_id: Id, item_id: Id, ctx: Writer) -> UndoOut:
    """Withdraw your own label on an item within `LOUPE_UNDO_GRACE_SECONDS` of submitting it.

    The item is handed back to you under a fresh lease, so `tasks/next` returns it again.
    After the grace period this is a 409; without a label of yours on the item, a 404.
    """
    undone = undo.undo_label(
        ctx.session,
        ctx.actor,
        project_id,
        item_id,
        grace_seconds=ctx.settings.undo_grace_seconds,
        lease_seconds=ctx.settings.lease_seconds,
        ledger=optional_ledger_config(ctx.settings),
    )
    return UndoOut(
        item_id=undone.item_id,
        label_id=undone.label_id,
        answer=undone.answer,
        label_count=undone.label_count,
        correction_index=undone.correction_index,
    )
