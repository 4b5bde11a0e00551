"""``/projects/{id}/privacy``: the gate's policy, whether it runs, and retention; what the
gate withheld, and a retry."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.privacy import Policy
from loupe.services.compliance import privacy_settings, withheld
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.privacy_settings import MAX_RETENTION_DAYS
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id

router = APIRouter(tags=["projects"])


class PrivacyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    project_id: int
    policy: Policy
    gate: bool
    retention_days: int | None


class PrivacyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: Policy | None = Field(default=None, description="placeholder, pseudonym or withhold")
    gate: bool | None = Field(
        default=None, description="false only for public data: items are stored as given"
    )
    retention_days: int | None = Field(
        default=None, ge=1, le=MAX_RETENTION_DAYS, description="null keeps items forever"
    )


@router.get("/projects/{project_id}/privacy", response_model=PrivacyOut)
def get_privacy(project_id: Id, ctx: Reader) -> PrivacyOut:
    return PrivacyOut.model_validate(
        privacy_settings.get_privacy(ctx.session, ctx.actor, project_id)
    )


@router.put("/projects/{project_id}/privacy", response_model=PrivacyOut)
def set_privacy(project_id: Id, body: PrivacyIn, ctx: Writer) -> PrivacyOut:
    """Change the privacy settings (for items imported from now on). Audited.

    Fields left out keep their value; ``"retention_days": null`` keeps items forever.
    """
    changes = body.model_dump(exclude_unset=True)
    kept = privacy_settings.set_privacy(
        ctx.session,
        ctx.actor,
        project_id,
        policy=changes.get("policy"),
        gate=changes.get("gate"),
        **({"retention_days": changes["retention_days"]} if "retention_days" in changes else {}),
    )
    return PrivacyOut.model_validate(kept)


class WithheldOut(BaseModel):
    project_id: int
    total: int = Field(description="Items the gate withheld: stored, never handed out")
    by_reason: dict[str, int] = Field(
        description="error (a detector failed), too_long (over the size limit), policy "
        "(the withhold policy found something), unknown (no original was kept)"
    )


class RetryOut(BaseModel):
    retried: int = Field(description="Withheld items gated again")
    released: int = Field(description="Of those, items that now pass and may be handed out")


@router.get("/projects/{project_id}/privacy/withheld", response_model=WithheldOut)
def get_withheld(project_id: Id, ctx: Reader) -> WithheldOut:
    """How many of the project's items the gate withheld, and why."""
    counts = withheld.withheld_counts(ctx.session, ctx.actor, project_id)
    return WithheldOut(project_id=counts.project_id, total=counts.total, by_reason=counts.by_reason)


@router.post("/projects/{project_id}/privacy/withheld/retry", response_model=RetryOut)
def retry_withheld(project_id: Id, ctx: Writer) -> RetryOut:
    """Gate the project's withheld items again under its current policy (up to 500 per
    call); release those that now pass. Each release is audited."""
    with gate_for(ctx.settings) as gate:
        run = withheld.retry_withheld(ctx.session, ctx.actor, gate, project_id=project_id)
    return RetryOut(retried=run.retried, released=run.released)
