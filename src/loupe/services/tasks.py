"""Handing out work: ``next task`` under a lease, and skip.

The invariants, under any concurrency and on both backends:

* an item never collects more labels than the project's overlap, and
* an annotator never labels the same item twice.

The second is a unique constraint on ``labels``. The first holds because every
change to an item's labels or leases happens while that item's row is locked:
on SQLite every write transaction begins ``IMMEDIATE`` (one writer at a time);
on PostgreSQL ``next task`` takes the candidate row ``FOR UPDATE SKIP LOCKED``
and counts its leases again once it holds the lock, and ``submit`` locks the
item ``FOR UPDATE`` before counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from loupe.db.models import Assignment, Item, Label, Project, Skip, utcnow
from loupe.db.upsert import insert_ignore
from loupe.errors import NotFound
from loupe.services.access import Actor, authorize_project

__all__ = ["Task", "active_leases", "next_task", "release", "skip_task"]

CANDIDATE_TRIES = 16


@dataclass(frozen=True, slots=True)
class Task:
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    lease_expires_at: datetime
    config_version: int


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def active_leases(session: Session, item_id: int, *, now: datetime, exclude_user: int) -> int:
    """Unexpired leases on an item held by anyone but ``exclude_user``."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(
                Assignment.item_id == item_id,
                Assignment.expires_at > now,
                Assignment.user_id != exclude_user,
            )
        )
        or 0
    )


def _task(session: Session, project: Project, item_id: int, expires: datetime) -> Task:
    row = session.execute(
        select(Item.external_id, Item.data, Item.language, Item.domain).where(Item.id == item_id)
    ).one()
    return Task(
        item_id=item_id,
        external_id=row.external_id,
        data=row.data,
        language=row.language,
        domain=row.domain,
        lease_expires_at=expires,
        config_version=project.config_version,
    )


def next_task(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int,
    now: datetime | None = None,
) -> Task | None:
    """The next item this annotator should label, reserved for ``lease_seconds``.

    An annotator who asks again before labelling gets the same item back (with
    the lease renewed). ``None`` means nothing is left for them.
    """
    project = authorize_project(session, actor, "tasks.work", project_id)
    assert actor.user_id is not None  # the policy admits only members
    user_id = actor.user_id
    now = now or utcnow()
    expires = now + timedelta(seconds=lease_seconds)

    held = session.scalar(
        select(Assignment.id)
        .where(
            Assignment.user_id == user_id,
            Assignment.project_id == project_id,
            Assignment.expires_at > now,
        )
        .order_by(Assignment.id)
        .limit(1)
    )
    if held is not None:
        assignment = session.get(Assignment, held)
        assert assignment is not None
        assignment.expires_at = expires
        session.flush()
        return _task(session, project, assignment.item_id, expires)

    leased = (
        select(func.count())
        .select_from(Assignment)
        .where(
            Assignment.item_id == Item.id,
            Assignment.expires_at > now,
            Assignment.user_id != user_id,
        )
        .scalar_subquery()
    )
    candidates = (
        select(Item.id)
        .where(
            Item.project_id == project_id,
            Item.is_complete.is_(False),
            Item.label_count + leased < project.overlap,
            ~exists().where(and_(Label.item_id == Item.id, Label.user_id == user_id)),
            ~exists().where(and_(Skip.item_id == Item.id, Skip.user_id == user_id)),
        )
        .order_by(Item.id)
        .limit(1)
    )
    postgres = _is_postgres(session)
    if postgres:
        candidates = candidates.with_for_update(skip_locked=True, of=Item)
    tried: list[int] = []
    for _ in range(CANDIDATE_TRIES):
        query = candidates.where(Item.id.not_in(tried)) if tried else candidates
        item_id = session.scalar(query)
        if item_id is None:
            return None
        if postgres:
            # We hold the row lock now; count again with a fresh snapshot, since a
            # lease committed just before we locked is invisible to the query above.
            label_count = session.scalar(select(Item.label_count).where(Item.id == item_id)) or 0
            others = active_leases(session, item_id, now=now, exclude_user=user_id)
            if label_count + others >= project.overlap:
                tried.append(item_id)
                continue
        session.execute(
            delete(Assignment).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
        )
        session.add(
            Assignment(project_id=project_id, item_id=item_id, user_id=user_id, expires_at=expires)
        )
        session.flush()
        return _task(session, project, item_id, expires)
    return None


def release(session: Session, *, item_id: int, user_id: int) -> None:
    session.execute(
        delete(Assignment).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
    )


def skip_task(session: Session, actor: Actor, project_id: int, item_id: int) -> None:
    """The annotator passes on this item: it is never offered to them again."""
    authorize_project(session, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    item_project = session.scalar(select(Item.project_id).where(Item.id == item_id))
    if item_project != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    session.execute(
        insert_ignore(session, Skip.__table__, conflict=["item_id", "user_id"]).values(
            item_id=item_id, user_id=actor.user_id, created_at=utcnow()
        )
    )
    release(session, item_id=item_id, user_id=actor.user_id)
