"""Contributors' tables: expertise, languages, qualification tests, peer reviews, reputation.

* ``contributor_domains``: a contributor's level in a domain (1 qualified, 2 advanced,
  3 expert), earned by passing a qualification test or granted by a manager; it may
  expire and managers may revoke it.
* ``qualification_tests`` / ``qualification_attempts``: a per-domain set of questions
  with known answers, a pass mark and a retry policy; each attempt and its grade.
* ``review_queue`` / ``review_leases`` / ``reviews``: labels sampled for peer review,
  who holds a review task, and every verdict (accept, reject with a reason, correct).
* ``reputation_events`` / ``reputations``: the evidence behind each contributor's
  per-domain skill estimate (append-only), and the current state derived from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, JSONType, UTCDateTime, utcnow

__all__ = [
    "ContributorDomain",
    "ContributorLanguage",
    "QualificationAttempt",
    "QualificationTest",
    "Reputation",
    "ReputationEvent",
    "Review",
    "ReviewLease",
    "ReviewTask",
]


class ContributorDomain(Base):
    __tablename__ = "contributor_domains"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    # "qualification:<test id>" or "manager"
    source: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContributorLanguage(Base):
    __tablename__ = "contributor_languages"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Lower-case BCP 47 primary subtag ("de", "zh"): an item in "de-AT" needs "de".
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class QualificationTest(Base):
    __tablename__ = "qualification_tests"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)  # granted on a pass
    pass_mark: Mapped[float] = mapped_column(Float)
    max_attempts: Mapped[int] = mapped_column(Integer)
    retry_after_hours: Mapped[int] = mapped_column(Integer)
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"data": {...}, "answer": ...}] in the project's label schema; answers never leave.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualificationAttempt(Base):
    __tablename__ = "qualification_attempts"
    __table_args__ = (Index("ix_qualification_attempts_user", "test_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("qualification_tests.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    n_correct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(nullable=True)


class ReviewTask(Base):
    """A label sampled for peer review, until enough reviewers have judged it."""

    __tablename__ = "review_queue"
    __table_args__ = (Index("ix_review_queue_open", "project_id", "status", "label_id"),)

    label_id: Mapped[int] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    labeller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    needed: Mapped[int] = mapped_column(Integer)
    n_reviews: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewLease(Base):
    __tablename__ = "review_leases"

    label_id: Mapped[int] = mapped_column(
        ForeignKey("review_queue.label_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """One reviewer's verdict on one label. The label may later be deleted (rejected
    work goes back to the queue); the review keeps the answer it judged."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("label_id", "reviewer_id"),
        Index("ix_reviews_project", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    label_id: Mapped[int | None] = mapped_column(
        ForeignKey("labels.id", ondelete="SET NULL"), nullable=True
    )
    labeller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(8))  # accept | reject | correct
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_answer: Mapped[Any] = mapped_column(JSONType)
    corrected_answer: Mapped[Any] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReputationEvent(Base):
    """One piece of evidence about a contributor's skill in a domain. Never updated."""

    __tablename__ = "reputation_events"
    __table_args__ = (Index("ix_reputation_events_user", "user_id", "domain", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    success: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    ref: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reputation(Base):
    """A contributor's current standing in a domain: decayed evidence sums and tier."""

    __tablename__ = "reputations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(32), primary_key=True)
    alpha_evidence: Mapped[float] = mapped_column(Float)
    beta_evidence: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    n_events: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    lower: Mapped[float] = mapped_column(Float)
    upper: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(16))
