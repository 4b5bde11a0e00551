"""An item's media parts as the privacy gate left them (items, tasks, reviews, escalations)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["MEDIA_DESCRIPTION", "MediaOut", "MediaRegionOut"]


class MediaRegionOut(BaseModel):
    type: str = Field(description="What the privacy gate pixelated: FACE, LICENSE_PLATE, EMAIL...")
    x: int
    y: int
    width: int
    height: int


class MediaOut(BaseModel):
    """One media part of an item (loupe.services.projects.media_views.MediaEntry)."""

    field: str
    kind: str = Field(description="image or audio")
    url: str | None = Field(
        description="The gated bytes: /api/v1/media/<sha256>; null for audio when you hold "
        "no voice clearance for the project (`restricted` says so)"
    )
    sha256: str | None = Field(description="Of the served bytes; null when `url` is")
    mime: str
    width: int | None
    height: int | None
    regions: list[MediaRegionOut] = Field(description="Regions the privacy gate pixelated")
    duration_ms: int | None = Field(default=None, description="Audio: the recording's length")
    sample_rate: int | None = Field(default=None, description="Audio: samples per second")
    restricted: str | None = Field(
        default=None,
        description='"voice": raw audio you may not hear (no voice clearance); work from '
        "the item's transcript",
    )


MEDIA_DESCRIPTION = "The item's media parts (images, audio), as the privacy gate left them"
