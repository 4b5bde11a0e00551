"""``/ledger/witnesses``: how far each configured witness has cosigned the log.

The sizes come from the stored checkpoints (every server worker agrees on them); the
last error and attempt are what this worker's background cosigner
(:mod:`loupe.web.cosigner`) last saw, so a refusing witness (a split view, a key it does
not trust) shows here with its reason.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from loupe.services.payments.witnesses import WitnessEndpoint, load_witnesses, witness_progress
from loupe.settings import Settings
from loupe.web.cosigner import Cosigner, WitnessStatus
from loupe.web.deps import Reader

__all__ = ["router"]

router = APIRouter(tags=["ledger"])


class WitnessOut(BaseModel):
    name: str
    url: str
    cosigned_size: int = Field(description="the newest checkpoint it cosigned (0: none)")
    cosigned_latest: bool
    failures: int = Field(description="consecutive failed tries by this server worker")
    last_error: str | None = Field(description="why its last try failed, e.g. a split view")
    last_attempt_at: datetime | None


class WitnessesOut(BaseModel):
    checkpoint_size: int | None = Field(description="the latest checkpoint's; null before one")
    cosigning: bool = Field(description="whether this server cosigns in the background")
    witnesses: list[WitnessOut]


def _configured(settings: Settings, cosigner: Cosigner | None) -> list[WitnessEndpoint]:
    if cosigner is not None:
        return cosigner.witnesses
    if settings.ledger_witnesses_file is None:
        return []
    return load_witnesses(settings.ledger_witnesses_file)


@router.get("/ledger/witnesses", response_model=WitnessesOut)
def get_witnesses(request: Request, ctx: Reader) -> WitnessesOut:
    """Each configured witness: the newest checkpoint it cosigned and its last failure."""
    cosigner: Cosigner | None = request.app.state.cosigner
    progress = witness_progress(ctx.session, ctx.actor, _configured(ctx.settings, cosigner))
    seen = {s.name: s for s in cosigner.statuses()} if cosigner else {}
    out = []
    for item in progress.witnesses:
        status = seen.get(item.name) or WitnessStatus(item.name, item.url)
        out.append(
            WitnessOut(
                name=item.name,
                url=item.url,
                cosigned_size=item.cosigned_size,
                cosigned_latest=item.cosigned_latest,
                failures=status.failures,
                last_error=status.last_error,
                last_attempt_at=status.last_attempt_at,
            )
        )
    return WitnessesOut(
        checkpoint_size=progress.checkpoint_size, cosigning=cosigner is not None, witnesses=out
    )
