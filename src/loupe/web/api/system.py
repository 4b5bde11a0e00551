from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from loupe import __version__
from loupe.schemas import UserOut
from loupe.services.users import get_user
from loupe.web.deps import Reader

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a database round trip or credentials."""
    return Health(status="ok", version=__version__)


@router.get("/me", response_model=UserOut)
def me(ctx: Reader) -> UserOut:
    """The user the token belongs to."""
    assert ctx.actor.user_id is not None
    return UserOut.model_validate(get_user(ctx.session, ctx.actor.user_id))
