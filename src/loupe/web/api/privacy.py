"""``/projects/{id}/privacy``: the gate's policy, whether it runs, and retention."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.privacy import Policy
from loupe.services import privacy
from loupe.services.privacy import MAX_RETENTION_DAYS
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
    return PrivacyOut.model_validate(privacy.get_privacy(ctx.session, ctx.actor, project_id))


@router.put("/projects/{project_id}/privacy", response_model=PrivacyOut)
def set_privacy(project_id: Id, body: PrivacyIn, ctx: Writer) -> PrivacyOut:
    """Change the privacy settings (for items imported from now on). Audited.

    Fields left out keep their value; ``"retention_days": null`` keeps items forever.
    """
    changes = body.model_dump(exclude_unset=True)
    kept = privacy.set_privacy(
        ctx.session,
        ctx.actor,
        project_id,
        policy=changes.get("policy"),
        gate=changes.get("gate"),
        **({"retention_days": changes["retention_days"]} if "retention_days" in changes else {}),
    )
    return PrivacyOut.model_validate(kept)
