"""The privacy gate's tables: sealed raw content, subject keys, clearances, the audit log.

What annotators read stays in ``items.data`` (the redacted text); the original is only
in ``item_vaults.ciphertext``, sealed with the data subject's key from ``subject_keys``
(wrapped by a master key kept outside the database, see ``loupe.services.compliance.vault``).
Erasing a subject deletes its key row: every ciphertext sealed under it is then noise.

``audit_log`` is append-only and hash-chained; ``audit_head`` is its single head row,
locked by every writer so that appends are serialised on PostgreSQL too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Clearance",
    "ErasureReceipt",
    "ItemVault",
    "ProjectPrivacy",
    "SubjectKey",
]


class ProjectPrivacy(Base):
    """A project's gate settings; a project without a row uses the defaults."""

    __tablename__ = "project_privacy"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    policy: Mapped[str] = mapped_column(String(16), default="placeholder")
    gate: Mapped[bool] = mapped_column(Boolean, default=True)
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubjectKey(Base):
    """One data subject's AES-256 data key, wrapped by the master key (never stored bare)."""

    __tablename__ = "subject_keys"

    key_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemVault(Base):
    """An item's original data, sealed under ``key_id``, and how it was redacted."""

    __tablename__ = "item_vaults"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    # "subject:<id>" for a named data subject, "item:<random>" for a per-item pseudo-subject.
    key_id: Mapped[str] = mapped_column(String(300), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Per field: the span map from redacted back to original offsets (types, no content).
    spans: Mapped[dict[str, Any]] = mapped_column(JSONType)
    detected: Mapped[list[str]] = mapped_column(JSONType)
    # Why the gate withheld the item ("timeout", "error", "too_long", "policy"), if it did.
    withheld_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Clearance(Base):
    """``user_id`` may reveal raw items of ``project_id`` up to ``sensitivity`` until
    ``expires_at``. A clearance covers one project only."""

    __tablename__ = "clearances"
    __table_args__ = (UniqueConstraint("user_id", "project_id", "sensitivity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    sensitivity: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditHead(Base):
    """The single row ``id = 1``: the chain's length and last hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One audited action; ``hash = sha256(prev_hash || canonical row)``. Never updated."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ErasureReceipt(Base):
    """The receipt issued for an erasure: its canonical JSON and that JSON's sha256."""

    __tablename__ = "erasure_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_ref: Mapped[str] = mapped_column(String(71), index=True)
    receipt: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
