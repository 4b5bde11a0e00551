"""Rate cards and bonuses (project managers), payouts and their export (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from loupe.services.payments import earnings, payout_files
from loupe.services.payments.earnings import RateCardSpec
from loupe.services.payments.ledger_keys import ledger_config, optional_ledger_config
from loupe.services.payments.payout_files import PayoutFormat
from loupe.web.api.ledger import EntryCreated
from loupe.web.deps import Reader, Writer
from loupe.web.params import MAX_ID, Id

__all__ = ["router"]

router = APIRouter(tags=["payments"])


class RateCardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    version: int
    currency: str
    card: RateCardSpec
    created_by: int | None
    created_at: datetime


class BonusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=MAX_ID)
    bonus: str = Field(min_length=1, max_length=40, description="a name in the rate card")
    item_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    minimum_minor: int = Field(default=1, ge=1, description="pay balances of at least this")


class PayoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    currency: str
    total_minor: int
    n_entries: int
    created_by: int | None
    created_at: datetime


@router.post(
    "/projects/{project_id}/rate-cards",
    response_model=RateCardOut,
    status_code=status.HTTP_201_CREATED,
)
def create_rate_card(project_id: Id, body: dict[str, Any], ctx: Writer) -> RateCardOut:
    """A new rate card version (project managers). Labels from now on earn by it."""
    actor = ctx.actor  # authenticate before looking for keys
    ledger_config(ctx.settings)  # refuse early when earnings could not be recorded
    card = earnings.create_rate_card(ctx.session, actor, project_id, body)
    return RateCardOut.model_validate(card)


@router.get("/projects/{project_id}/rate-cards", response_model=list[RateCardOut])
def list_rate_cards(project_id: Id, ctx: Reader) -> list[RateCardOut]:
    """Every version, newest first (project members see what they are paid)."""
    cards = earnings.list_rate_cards(ctx.session, ctx.actor, project_id)
    return [RateCardOut.model_validate(card) for card in cards]


@router.post(
    "/projects/{project_id}/bonuses",
    response_model=EntryCreated,
    status_code=status.HTTP_201_CREATED,
)
def grant_bonus(project_id: Id, body: BonusIn, ctx: Writer) -> EntryCreated:
    """Credit a rate-card bonus (e.g. expert or review work) to a contributor."""
    actor = ctx.actor  # authenticate before looking for keys
    index = earnings.grant_bonus(
        ctx.session,
        actor,
        ledger_config(ctx.settings),
        project_id,
        user_id=body.user_id,
        bonus=body.bonus,
        item_id=body.item_id,
    )
    return EntryCreated(index=index)


@router.post("/payouts", response_model=PayoutOut, status_code=status.HTTP_201_CREATED)
def create_payout(body: PayoutIn, ctx: Writer) -> PayoutOut:
    """Pay every balance of at least ``minimum_minor`` (admins); each is a log entry."""
    actor = ctx.actor  # authenticate before looking for keys
    payout = earnings.create_payout(
        ctx.session,
        actor,
        ledger_config(ctx.settings),
        currency=body.currency,
        minimum_minor=body.minimum_minor,
    )
    return PayoutOut.model_validate(payout)


@router.get("/payouts", response_model=list[PayoutOut])
def list_payouts(ctx: Reader) -> list[PayoutOut]:
    return [PayoutOut.model_validate(p) for p in earnings.list_payouts(ctx.session, ctx.actor)]


@router.get(
    "/payouts/{payout_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "CSV, or ISO 20022 pain.001.001.09 XML, for the bank",
            "content": {"text/csv": {}, "application/xml": {}},
        }
    },
)
def export_payout(
    payout_id: Id,
    ctx: Reader,
    file_format: Annotated[
        PayoutFormat,
        Query(alias="format", description="csv, or pain001 (ISO 20022 pain.001.001.09)"),
    ] = "csv",
) -> Response:
    """The payout batch for the bank (admins), with the checkpoint that seals it.

    CSV rows carry the checkpoint's tree size and root; the XML carries them in each
    transfer's remittance text and the signed note in ``SplmtryData``. Amounts come from
    the logged entries: 409 when a stored column disagrees with them.
    """
    actor = ctx.actor  # authenticate before looking for keys
    config = optional_ledger_config(ctx.settings)
    batch = payout_files.payout_batch(
        ctx.session, actor, payout_id, secret=config.keys.secret if config else None
    )
    if file_format == "pain001":
        return Response(
            payout_files.pain001(batch),
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="payout-{payout_id}.xml"'},
        )
    return Response(
        "".join(payout_files.payout_csv(batch)),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payout-{payout_id}.csv"'},
    )
