"""The payment ledger's tables: rate cards, the Merkle log, checkpoints and payouts.

The log itself is two tables. ``ledger_nodes`` is the :class:`~loupe.ledger.merkle.TreeStore`
(one row per perfect subtree, ``(level, idx) -> hash``); ``ledger_entries`` holds each
leaf's canonical bytes with *internal* columns (user, label, project, signed amount) that
serve balances and wallets and never enter the leaf. ``ledger_state`` is one row: the
log's size, and the row PostgreSQL writers lock to append one at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

# A log index: 64-bit, and on SQLite "INTEGER PRIMARY KEY", the rowid itself, so the
# entries table needs no separate primary-key index.
Index64 = BigInteger().with_variant(Integer(), "sqlite")

__all__ = [
    "LedgerAnchor",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerNode",
    "LedgerState",
    "Payout",
    "RateCard",
]


class RateCard(Base):
    """One version of a project's rate card; a change is a new row, never an edit."""

    __tablename__ = "rate_cards"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # The validated loupe.services.payments.earnings.RateCardSpec, as JSON.
    card: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerState(Base):
    """The single row ``id = 1``: the log's size, locked by every writer on PostgreSQL."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerNode(Base):
    """The hash of the perfect subtree over leaves ``[idx << level, (idx + 1) << level)``."""

    __tablename__ = "ledger_nodes"
    # Clustered on (level, idx): one b-tree insert per node and one seek per lookup.
    __table_args__ = {"sqlite_with_rowid": False}

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerEntry(Base):
    """One leaf of the log (``leaf`` is the canonical PaymentEntry) plus internal columns."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_user", "user_id", "idx"),
        # Partial: most entries are neither payouts nor corrections, and every index
        # entry costs the append path time.
        Index(
            "ix_ledger_entries_payout",
            "payout_id",
            sqlite_where=text("payout_id IS NOT NULL"),
            postgresql_where=text("payout_id IS NOT NULL"),
        ),
        Index(
            "ix_ledger_entries_corrects",
            "corrects",
            sqlite_where=text("corrects IS NOT NULL"),
            postgresql_where=text("corrects IS NOT NULL"),
        ),
    )

    idx: Mapped[int] = mapped_column(Index64, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Internal: never part of the leaf. SET NULL keeps the public log intact when a user,
    # project or label is erased.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), nullable=True
    )
    # One earning per label: the database enforces idempotency.
    label_id: Mapped[int | None] = mapped_column(
        ForeignKey("labels.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("payouts.id", ondelete="RESTRICT"), nullable=True
    )
    # For a correction, the index it corrects (also in the leaf); indexed to sum an
    # entry's corrections without decoding leaves.
    corrects: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Signed change to the contributor's balance: + earnings, bonuses; +/- corrections;
    # - payouts. A balance is SUM(delta_minor).
    delta_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerCheckpoint(Base):
    """A signed tree head as published: the signed note and what it commits to."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerAnchor(Base):
    """A transaction anchoring a checkpoint on a chain (``loupe ledger anchor``).

    ``payload`` (32 bytes, the SHA-256 of the checkpoint's signed text) is all the chain
    holds; ``block_number`` is empty until the transaction is mined.
    """

    __tablename__ = "ledger_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_checkpoints.id", ondelete="RESTRICT"), index=True
    )
    chain_id: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str] = mapped_column(String(42))
    payload: Mapped[bytes] = mapped_column(LargeBinary(32))
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payout(Base):
    """A payout batch: one ``payout`` entry per contributor whose balance it paid."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    n_entries: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
