"""Webhooks and their outbox: one row per (event, webhook) delivery.

An event is written to ``webhook_deliveries`` in the same transaction as the change
that causes it (a transactional outbox), so it is delivered if and only if that change
commits, and survives a restart: nothing waits in memory. ``body`` is the exact JSON
sent, so every retry signs the same bytes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = ["Webhook", "WebhookDelivery"]


class Webhook(Base):
    """A project's subscription: where to POST which events, signed with its secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    # The event types it receives (a JSON list of names from
    # loupe.services.projects.webhooks.EVENTS).
    events: Mapped[list[str]] = mapped_column(JSONType)
    # The signing secret, sealed (AES-256-GCM) under the key file webhook-secrets.key;
    # shown once at creation, never returned again.
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, and how its delivery went.

    ``status``: ``pending`` (due at ``next_attempt_at``), ``delivering`` (claimed by a
    sender until ``next_attempt_at``, its lease: a sender that crashed leaves it due
    again then), ``delivered`` or ``failed`` (out of attempts).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # X-Loupe-Delivery: the same on every attempt, so a receiver can drop duplicates.
    delivery_id: Mapped[str] = mapped_column(String(32), unique=True)
    event_id: Mapped[str] = mapped_column(String(32), index=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
