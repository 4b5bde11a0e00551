"""``/clearances``: who may reveal raw items of which sensitivity class, and who may hear
raw audio (``voice``), per project."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from loupe.formats import Sensitivity
from loupe.services.people import clearances
from loupe.web.deps import Reader, Writer
from loupe.web.params import MAX_ID, Id

router = APIRouter(tags=["clearances"])


class ClearanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=MAX_ID)
    project_id: int = Field(ge=1, le=MAX_ID, description="The one project it covers")
    sensitivity: Sensitivity | Literal["voice"] = Field(
        description="Covers this class and those below it; `voice`: may hear the project's "
        "raw audio (exact: no class implies it)"
    )
    expires_at: datetime | None = Field(default=None, description="null: until revoked")


class ClearanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    project_id: int
    sensitivity: str
    granted_by: int | None
    expires_at: datetime | None
    created_at: datetime


@router.post("/clearances", response_model=ClearanceOut, status_code=status.HTTP_201_CREATED)
def grant(body: ClearanceIn, ctx: Writer) -> ClearanceOut:
    """Grant (or renew) a clearance in one project (admins only; never to yourself). Audited."""
    row = clearances.grant_clearance(
        ctx.session,
        ctx.actor,
        user_id=body.user_id,
        project_id=body.project_id,
        sensitivity=body.sensitivity,
        expires_at=body.expires_at,
    )
    return ClearanceOut.model_validate(row)


@router.get("/clearances", response_model=list[ClearanceOut])
def list_all(
    ctx: Reader,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[ClearanceOut]:
    """Clearances, optionally of one user or one project (admins only)."""
    rows = clearances.list_clearances(
        ctx.session, ctx.actor, user_id=user_id, project_id=project_id
    )
    return [ClearanceOut.model_validate(row) for row in rows]


@router.delete("/clearances/{clearance_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(clearance_id: Id, ctx: Writer) -> Response:
    """Revoke a clearance at once (admins only). Audited."""
    clearances.revoke_clearance(ctx.session, ctx.actor, clearance_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
