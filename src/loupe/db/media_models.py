"""Media parts of items (images, audio): what people are shown, and the sealed original.

An item's text stays in ``items.data``; each media part is one ``item_media`` row. The
bytes live in the blob store (:mod:`loupe.storage`), never in the database:

* ``sha256`` names the *served* bytes: the image after the privacy gate (metadata
  stripped, faces, plates and text holding personal data pixelated), or the audio with
  its tags stripped (served only to voice-cleared people). Content-addressed:
  equal bytes are stored once, under ``media/<sha256>``, whoever imported them.
* ``sealed_blob`` names the *original* bytes, encrypted with the data subject's key
  (``key_id``, as ``item_vaults``), under ``sealed/<sha256 of the ciphertext>``. Erasing
  the subject shreds the key and deletes the blob. ``None`` when no vault kept it.

``regions`` lists what the gate pixelated (type and box, no content); ``checks`` which
detectors ran (``metadata``, ``faces``, ``profiles``, ``plates``, ``text``), so a
reader can tell a clean image from one that was never looked at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = ["ItemMedia"]


class ItemMedia(Base):
    """One media part of an item, stored under ``field`` (the import row's column)."""

    __tablename__ = "item_media"
    __table_args__ = (
        UniqueConstraint("item_id", "field"),
        # Who may fetch /media/<sha256>: the items that carry it.
        Index("ix_item_media_sha256", "sha256"),
        Index("ix_item_media_project", "project_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "image" or "audio"
    mime: Mapped[str] = mapped_column(String(64))  # of the served bytes
    sha256: Mapped[str] = mapped_column(String(64))  # of the served bytes
    bytes: Mapped[int] = mapped_column(BigInteger)  # size of the served bytes
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # audio
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)  # audio, in Hz
    sealed_blob: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    regions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    checks: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
