"""The model loop's tables: per-project loop settings, model predictions, model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = ["LoopConfig", "ModelVersionRecord", "Prediction"]


class LoopConfig(Base):
    """How a project's selection mixes strategies, and the retrainer's bookkeeping."""

    __tablename__ = "loop_configs"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # Strategy name -> weight (loupe.selection.STRATEGIES).
    mix: Mapped[dict[str, Any]] = mapped_column(JSONType)
    audit_share: Mapped[float] = mapped_column(Float)
    # Share of each prediction batch that may go to people (the labelling budget per batch).
    label_share: Mapped[float] = mapped_column(Float)
    # Most items ever sent to people (None: no overall cap).
    label_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)
    oos_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    trainer: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    # The shadow decision rule (loupe.learning.shadow): live labelled items before a
    # verdict (0: no shadowing) and the largest agreement drop still promoted.
    shadow_min_items: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    shadow_max_drop: Mapped[float] = mapped_column(Float, default=0.02, server_default="0.02")
    batches: Mapped[int] = mapped_column(Integer, default=0)
    # Resolved labels the last retrain saw, and the claim that keeps retrains apart.
    labels_at_train: Mapped[int] = mapped_column(Integer, default=0)
    training_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prediction(Base):
    """A model's pre-label for an item, and what the selection made of it."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_project", "project_id", "item_id"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(255))
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSONType)
    confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "human" (handed to annotators) or "model" (resolved by the model's prediction).
    resolution: Mapped[str] = mapped_column(String(8))
    # The selection's reason ("margin", "audit", ...) and, for audit items, the
    # inclusion probability (the audit estimate weighs each by 1 / probability).
    strategy: Mapped[str | None] = mapped_column(String(32), nullable=True)
    inclusion_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    batch: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersionRecord(Base):
    """One retrained model: its metrics on the gold set, training set and promotion."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    trainer: Mapped[str] = mapped_column(String(32))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The same trainer fitted on the random audit items only: the label-efficiency control.
    control_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    n_control: Mapped[int] = mapped_column(Integer, default=0)
    # Internal item ids (never external ids, which may be personal; revision 0009).
    training_ids: Mapped[list[Any]] = mapped_column(JSONType)
    training_hash: Mapped[str] = mapped_column(String(64))
    gold_set: Mapped[str] = mapped_column(String(64))
    n_labels: Mapped[int] = mapped_column(Integer)
    cost_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    promoted: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when an erasure deleted an item it was trained on: retired (never the champion
    # again) and its model file deleted.
    trained_on_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Shadow evaluation (loupe.learning.shadow): "pending" while the champion serves and
    # this challenger answers the same live items; then "promoted" or "rejected" (None: not
    # shadowed). ``shadow``: the paired evidence, {"n", "challenger_correct",
    # "champion_correct", "champion_version", "min_items", "max_drop"}.
    shadow_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    shadow: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
