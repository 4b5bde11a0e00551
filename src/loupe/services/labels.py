"""Submitting labels: validated against the schema, idempotent, within overlap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loupe.db.models import Assignment, Item, Label, utcnow
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import validate_answer
from loupe.services.access import Actor, authorize_project
from loupe.services.consensus import update_consensus
from loupe.services.projects import project_schema
from loupe.services.tasks import active_leases

__all__ = ["Submission", "list_labels", "submit_label"]

MAX_LEAD_TIME_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Submission:
    label: Label
    created: bool  # False when the same answer had been submitted before


def submit_label(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    answer: Any,
    *,
    lead_time_ms: int | None = None,
    now: datetime | None = None,
) -> Submission:
    """Record ``actor``'s answer for an item.

    Resubmitting the same answer returns the existing label; a different answer
    for an item already labelled is a conflict. Without a live lease the label is
    accepted only while the item still has room under its overlap.
    """
    project = authorize_project(session, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    user_id = actor.user_id
    now = now or utcnow()
    canonical = validate_answer(project_schema(project).task, answer)
    if lead_time_ms is not None and not 0 <= lead_time_ms <= MAX_LEAD_TIME_MS:
        raise InvalidInput(
            f"lead_time_ms: must be between 0 and {MAX_LEAD_TIME_MS}",
            details={"field": "lead_time_ms"},
        )

    item_query = select(Item.project_id, Item.label_count).where(Item.id == item_id)
    if session.get_bind().dialect.name == "postgresql":
        item_query = item_query.with_for_update()
    item = session.execute(item_query).first()
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )

    existing = session.scalar(
        select(Label).where(Label.item_id == item_id, Label.user_id == user_id)
    )
    if existing is not None:
        if existing.answer == canonical:
            return Submission(existing, created=False)
        raise Conflict(
            f"you already labelled item {item_id} as {existing.answer!r}; labels cannot be "
            "changed by resubmitting",
            details={"item_id": item_id, "label_id": existing.id},
        )

    lease_expiry = session.scalar(
        select(Assignment.expires_at).where(
            Assignment.item_id == item_id, Assignment.user_id == user_id
        )
    )
    has_lease = lease_expiry is not None and lease_expiry > now
    taken = item.label_count
    if not has_lease:
        taken += active_leases(session, item_id, now=now, exclude_user=user_id)
    if taken >= project.overlap:
        raise Conflict(
            f"item {item_id} already has the {project.overlap} label(s) it needs; "
            "ask for the next task instead",
            details={"item_id": item_id, "overlap": project.overlap},
        )

    label = Label(
        project_id=project_id,
        item_id=item_id,
        user_id=user_id,
        answer=canonical,
        config_version=project.config_version,
        lead_time_ms=lead_time_ms,
        created_at=now,
    )
    session.add(label)
    count = item.label_count + 1
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(label_count=count, is_complete=count >= project.overlap)
    )
    session.execute(
        delete(Assignment).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
    )
    session.flush()
    update_consensus(session, project_id=project_id, item_id=item_id)
    return Submission(label, created=True)


def list_labels(
    session: Session, actor: Actor, project_id: int, *, after_id: int, limit: int
) -> Sequence[Label]:
    authorize_project(session, actor, "labels.read", project_id)
    return session.scalars(
        select(Label)
        .where(Label.project_id == project_id, Label.id > after_id)
        .order_by(Label.id)
        .limit(limit)
    ).all()
