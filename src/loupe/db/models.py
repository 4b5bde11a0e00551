"""The ORM models: one class per table, no behaviour (services own the workflow).

Schema changes go through Alembic migrations in ``loupe/db/migrations``; a test
checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiToken",
    "Assignment",
    "Base",
    "Consensus",
    "Item",
    "Label",
    "Membership",
    "Project",
    "ProjectConfig",
    "Skip",
    "User",
    "utcnow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and returned timezone-aware, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Loupe stores UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Optional: the token stops working at this time (None: until revoked).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    guidelines: Mapped[str] = mapped_column(Text, default="")
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    # The label schema as JSON (a discriminated union on "type"; see loupe.label_schema),
    # so new task types need no migration of existing rows.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Archived: no tasks, reviews, expert work, imports or labels; still readable
    # (loupe.services.projects.project_lifecycle). ``archived_by`` is a plain user id.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    archived_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ProjectConfig(Base):
    """Every version of a project's label schema; labels record the version they used."""

    __tablename__ = "project_configs"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    overlap: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the quality engine pauses the member (e.g. low gold accuracy); the
    # reason is shown to them and to managers, who can resume them.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


# An item next task may hand out (the predicate of the partial index ix_items_open).
OPEN_ITEM = "NOT is_complete AND NOT withheld AND NOT is_gold"


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        # The next-task scan: open items of a project in id order.
        Index("ix_items_queue", "project_id", "is_complete", "id"),
        # Only the items next task may hand out, in id order: where each window of the
        # queue walk starts (loupe.services.labelling.tasks), whatever the planner's estimates.
        Index(
            "ix_items_open",
            "project_id",
            "id",
            postgresql_where=text(OPEN_ITEM),
            sqlite_where=text(OPEN_ITEM),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    domain: Mapped[str] = mapped_column(String(32), default="general")
    # Set by the privacy gate (loupe.services.compliance.gate): data holds the redacted text.
    sensitivity: Mapped[str] = mapped_column(String(16), default="internal")
    subject_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    # The lowest expertise level (in the item's domain) a contributor needs to receive it,
    # from the item's metadata ``min_level``; the project's routing policy may ask more.
    min_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    label_count: Mapped[int] = mapped_column(Integer, default=0)
    is_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # A gold (honeypot) item: its known answer is in gold_answers; handed to every
    # annotator at the project's gold rate, outside the overlap count.
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """A lease: the item is reserved for this annotator until ``expires_at``."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_assignments_user", "user_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (
        # The database itself guarantees no annotator labels an item twice.
        UniqueConstraint("item_id", "user_id"),
        Index("ix_labels_project", "project_id", "id"),
        # A contributor's recent work in a project (low-effort checks, reputation).
        Index("ix_labels_user", "user_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answer: Mapped[Any] = mapped_column(JSONType)
    config_version: Mapped[int] = mapped_column(Integer)
    lead_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Skip(Base):
    __tablename__ = "skips"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consensus(Base):
    """The current resolved answer of an item, with its support."""

    __tablename__ = "consensus"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[Any] = mapped_column(JSONType)
    support: Mapped[int] = mapped_column(Integer)
    n_labels: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The ledger tables live in their own module; importing it here keeps Base.metadata
# complete for Alembic and for tests that compare the migrations with the models.
import loupe.db.contributor_models  # noqa: E402
import loupe.db.ledger_models  # noqa: E402
import loupe.db.loop_models  # noqa: E402
import loupe.db.media_models  # noqa: E402
import loupe.db.privacy_models  # noqa: E402
import loupe.db.project_models  # noqa: E402
import loupe.db.quality_models  # noqa: E402
import loupe.db.session_models  # noqa: E402
import loupe.db.webhook_models  # noqa: E402, F401
