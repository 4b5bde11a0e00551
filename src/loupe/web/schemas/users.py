"""Users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm

__all__ = ["TokenIn", "TokenIssued", "TokenOut", "UserIn", "UserOut"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    role: str = Field(description="admin, manager, annotator, reviewer or auditor")
    display_name: str = Field(default="", max_length=200)


class UserOut(Orm):
    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    expires_at: datetime | None = Field(
        default=None, description="When the token stops working; null (default): until revoked"
    )


class TokenOut(Orm):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None


class TokenIssued(TokenOut):
    token: str = Field(description="The secret, shown this once; only its hash is stored.")
