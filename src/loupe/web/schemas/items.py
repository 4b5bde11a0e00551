"""Items and their import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loupe.web.schemas.common import Orm
from loupe.web.schemas.media import MEDIA_DESCRIPTION, MediaOut

__all__ = ["ImportOut", "ItemIn", "ItemOut", "ItemsIn"]


class ItemIn(BaseModel):
    """One item; fields other than the reserved ones become the item's data."""

    model_config = ConfigDict(extra="allow")

    id: str | int | None = None
    language: str | None = None
    domain: str | None = None
    metadata: dict[str, Any] | None = None


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(
        description="Items as objects: id, language, domain, metadata, and data fields "
        "(at least the project's text field)."
    )


class ImportOut(BaseModel):
    received: int
    created: int
    existing: int
    withheld: int = Field(
        description="New items the privacy gate withheld: stored, never shown to anyone "
        "(see docs/privacy.md); `loupe privacy withheld` lists why."
    )


class ItemOut(Orm):
    id: int
    external_id: str
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(validation_alias="meta")
    language: str | None
    domain: str
    label_count: int
    is_complete: bool
    created_at: datetime
    media: list[MediaOut] = Field(default_factory=list, description=MEDIA_DESCRIPTION)
