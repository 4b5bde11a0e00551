"""The quality engine's tables: gold answers and results, worker skills, escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = ["Escalation", "GoldAnswer", "GoldResult", "QualityState", "WorkerSkill"]


class GoldAnswer(Base):
    """The known answer of a gold item."""

    __tablename__ = "gold_answers"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldResult(Base):
    """Whether an annotator's answer to a gold item was right."""

    __tablename__ = "gold_results"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_gold_results_member", "project_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    correct: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerSkill(Base):
    """A worker's skill in a project from the last fit of the project's aggregator."""

    __tablename__ = "worker_skills"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    accuracy: Mapped[float] = mapped_column(Float)
    # Row-stochastic K x K matrix [true][given] in the project's label order, when the
    # method learns one (Dawid-Skene); None for one-coin skills.
    confusion: Mapped[Any] = mapped_column(JSONType, nullable=True)
    n_labels: Mapped[int] = mapped_column(Integer)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    """An item the crowd could not settle, or that someone flagged: the escalation ladder.

    ``stage`` is ``expert`` (a contributor at the project's expert level in the item's
    domain answers it) or ``adjudicator`` (a project manager decides); an expert who
    cannot settle it passes it up. The final answer becomes the item's consensus.
    """

    __tablename__ = "escalations"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    n_labels: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stage: Mapped[str] = mapped_column(String(16), default="expert", server_default="expert")
    flagged_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    answer: Mapped[Any] = mapped_column(JSONType, nullable=True)


class QualityState(Base):
    """Per project: how many labels the last fit saw, so the refitter knows when to run."""

    __tablename__ = "quality_state"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    labels_at_fit: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str] = mapped_column(String(16))
    fitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fitting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
