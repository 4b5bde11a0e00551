"""The project lifecycle's tables: deleted projects' ids, and comments on items.

``deleted_projects`` keeps one row per deleted project (its id and name, when and by
whom) so that no new project takes its id: payment-log entries name their project by id
(``p<id>.v<n>`` in the leaf) and outlive the project. ``item_comments`` holds what people
write about an item, after the project's privacy gate; a comment goes with its item.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, UTCDateTime, utcnow

__all__ = ["DeletedProject", "ItemComment"]


class DeletedProject(Base):
    """A deleted project's id (never reused), its name, and who deleted it when."""

    __tablename__ = "deleted_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A plain id, like the audit log's actor: the record outlives the user row.
    deleted_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ItemComment(Base):
    """A comment on an item; ``body`` is the gated (redacted) text, never the original."""

    __tablename__ = "item_comments"
    __table_args__ = (Index("ix_item_comments_item", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    # The gate found (and redacted or withheld) something personal in what was typed.
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
