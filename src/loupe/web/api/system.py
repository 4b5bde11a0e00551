from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from loupe import __version__
from loupe.services.health import check_ready
from loupe.services.people.users import get_user
from loupe.web.deps import Reader
from loupe.web.schemas.common import ErrorBody
from loupe.web.schemas.users import UserOut

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str


@router.get(
    "/health",
    response_model=Health,
    responses={
        503: {
            "model": ErrorBody,
            "description": "The database is read-only or unreachable, or a disk is nearly full",
        }
    },
)
def health(request: Request) -> Health:
    """Readiness, without credentials: ok only when the database accepts a write
    (rolled back) and the data directories have ``LOUPE_HEALTH_MIN_FREE_MB`` free."""
    check_ready(request.app.state.db, request.app.state.settings)
    return Health(status="ok", version=__version__)


@router.get("/me", response_model=UserOut)
def me(ctx: Reader) -> UserOut:
    """The user the token belongs to."""
    assert ctx.actor.user_id is not None
    return UserOut.model_validate(get_user(ctx.session, ctx.actor.user_id))
