"""Submitting labels: validated against the schema, idempotent, within overlap.

The submit path is plain SQL for speed (see ``loupe.db.raw``). A new label earns per
the project's rate card, if it has one: the earning is appended to the payment log in
the same transaction (``loupe.services.payments.earnings.earn_for_label``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Label, utcnow
from loupe.db.queries.assignments import USERS_LEASE_ON_ITEM
from loupe.db.queries.items import ITEM_DATA, ITEM_FOR_SUBMIT, ItemRequirements
from loupe.db.queries.labels import USERS_LABEL_ON_ITEM, UsersLabel
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import Boxes, LabelSchema, Segments, Spans, validate_answer
from loupe.services.access import (
    Actor,
    ProjectRef,
    authorize_project,
    authorize_project_fast,
    sees_contributors,
)
from loupe.services.compliance.gate import redact_answer
from loupe.services.labelling.lifecycle import ItemState, label_added
from loupe.services.labelling.media_bounds import audio_duration_ms, image_size
from loupe.services.labelling.tasks import active_leases, release
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.people.eligibility import require_eligible
from loupe.services.projects.definition import project_schema
from loupe.services.quality.gold import GoldFeedback

__all__ = ["LabelRecord", "ListedLabel", "Submission", "list_labels", "submit_label"]

MAX_LEAD_TIME_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class LabelRecord:
    id: int
    item_id: int
    user_id: int
    answer: Any
    config_version: int
    lead_time_ms: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Submission:
    label: LabelRecord
    created: bool  # False when the same answer had been submitted before
    gold: GoldFeedback | None = None  # set after a gold task


def submit_label(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    answer: Any,
    *,
    lead_time_ms: int | None = None,
    now: datetime | None = None,
    ledger: LedgerConfig | None = None,
    rng: random.Random | None = None,
) -> Submission:
    """Record ``actor``'s answer for an item.

    Resubmitting the same answer returns the existing label; a different answer
    for an item already labelled is a conflict. Every new label needs the lease
    ``actor`` was given on the item (by :func:`~loupe.services.labelling.tasks.next_task`, or
    :func:`~loupe.services.labelling.tasks.take_item` for staff): without one the submit is a
    :class:`Conflict` with reason ``no_lease`` and nothing is written, with the same
    message for gold and ordinary items, before anything about the item is checked, so
    the answer tells nothing about the item and gold feedback only ever reaches
    someone the gold item was served to. A lease that has expired still counts as
    served: the label is accepted while the item has room under its overlap (gold
    items are outside the overlap). A new label earns
    per the project's rate card (recorded with ``ledger``; a project with a rate card
    and no ``ledger`` is a :class:`Conflict`). What a new label sets off is
    :func:`loupe.services.labelling.lifecycle.label_added`'s.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
    canonical = validate_answer(schema.task, answer) if not _needs_text(schema) else None
    _check_lead_time(lead_time_ms)
    item, requirements = _lock_item(raw, project, schema, item_id)
    mine = raw.one(USERS_LABEL_ON_ITEM, item=item_id, user=user)
    lease = raw.one(USERS_LEASE_ON_ITEM, item=item_id, user=user) if mine is None else None
    if mine is None and lease is None:
        raise _no_lease(project_id, item_id)
    if not schema.routing.is_open or requirements.min_level:
        require_eligible(raw, schema.routing, user, item_id, now=now, item=requirements)
    if canonical is None:
        canonical = _validate_against_item(raw, schema, item_id, answer)
    canonical = redact_answer(session, project_id, schema.task, canonical)
    if mine is not None:
        return _resubmitted(raw, mine, item_id=item_id, user_id=user, answer=canonical)
    assert lease is not None
    _require_room(raw, item, user, lease_expires_at=raw.time_out(lease.expires_at), now=now)
    added = label_added(
        raw, session, item, user_id=user, answer=canonical, lead_time_ms=lead_time_ms,
        ledger=ledger, now=now, rng=rng,
    )  # fmt: skip
    release(raw, item_id=item_id, user_id=user)
    record = LabelRecord(
        id=added.label_id,
        item_id=item_id,
        user_id=user,
        answer=canonical,
        config_version=project.config_version,
        lead_time_ms=lead_time_ms,
        created_at=now,
    )
    return Submission(record, created=True, gold=added.gold)


def _check_lead_time(lead_time_ms: int | None) -> None:
    if lead_time_ms is not None and not 0 <= lead_time_ms <= MAX_LEAD_TIME_MS:
        raise InvalidInput(
            f"lead_time_ms: must be between 0 and {MAX_LEAD_TIME_MS}",
            details={"field": "lead_time_ms"},
        )


def _lock_item(
    raw: Raw, project: ProjectRef, schema: LabelSchema, item_id: int
) -> tuple[ItemState, ItemRequirements]:
    """The item, locked for the submit, and what routing requires of who labels it."""
    row = raw.one(ITEM_FOR_SUBMIT.locked(raw.postgres), item=item_id)
    if row is None or row.project_id != project.id:
        raise NotFound(
            f"item {item_id} does not exist in project {project.id}",
            details={"item_id": item_id},
        )
    item = ItemState(
        project=project,
        schema=schema,
        item_id=item_id,
        label_count=int(row.label_count),
        domain=row.domain,
        is_gold=bool(row.is_gold),
        is_complete=bool(row.is_complete),
    )
    requirements = ItemRequirements(
        row.domain, row.language, row.sensitivity, int(row.min_level), row.project_id
    )
    return item, requirements


def _no_lease(project_id: int, item_id: int) -> Conflict:
    # First, and the same for every item: answering by id what one was never
    # served would tell gold from ordinary items and harvest the expected answers.
    return Conflict(
        f"you hold no lease on item {item_id}: ask for the next task "
        f"(POST /api/v1/projects/{project_id}/tasks/next) and submit before its lease "
        "expires",
        details={"item_id": item_id, "reason": "no_lease"},
    )


def _validate_against_item(raw: Raw, schema: LabelSchema, item_id: int, answer: Any) -> Any:
    """Spans against the item's text, boxes its image, segments its audio."""
    return validate_answer(
        schema.task,
        answer,
        text=_item_text(raw, schema, item_id) if isinstance(schema.task, Spans) else None,
        size=image_size(raw, schema, item_id),
        duration_ms=audio_duration_ms(raw, schema, item_id),
    )


def _resubmitted(
    raw: Raw, mine: UsersLabel, *, item_id: int, user_id: int, answer: Any
) -> Submission:
    """The same answer again is the label already stored; another is a conflict."""
    existing = raw.json_out(mine.answer)
    if existing != answer:
        raise Conflict(
            f"you already labelled item {item_id} as {existing!r}; labels cannot be "
            "changed by resubmitting",
            details={"item_id": item_id, "label_id": mine.id},
        )
    record = LabelRecord(
        id=mine.id,
        item_id=item_id,
        user_id=user_id,
        answer=existing,
        config_version=mine.config_version,
        lead_time_ms=mine.lead_time_ms,
        created_at=raw.time_out(mine.created_at),
    )
    return Submission(record, created=False)


def _require_room(
    raw: Raw, item: ItemState, user_id: int, *, lease_expires_at: datetime, now: datetime
) -> None:
    """An expired lease: the item was served to this user, so the label is taken while
    the item still has room (others may hold it now). Gold items go to everyone,
    outside the overlap."""
    taken = item.label_count
    if lease_expires_at <= now:
        taken += active_leases(raw, item.item_id, now=now, exclude_user=user_id)
    overlap = item.project.overlap
    if taken >= overlap and not item.is_gold:
        raise Conflict(
            f"item {item.item_id} already has the {overlap} label(s) it needs; "
            "ask for the next task instead",
            details={"item_id": item.item_id, "overlap": overlap},
        )


def _needs_text(schema: LabelSchema) -> bool:
    return isinstance(schema.task, Spans | Boxes | Segments)


def _item_text(raw: Raw, schema: LabelSchema, item_id: int) -> str | None:
    row = raw.one(ITEM_DATA, item=item_id)
    return schema.text_of(raw.json_out(row.data)) if row else None


@dataclass(frozen=True, slots=True)
class ListedLabel:
    """A label as listed: ``user_id`` is ``None`` for readers who review blind."""

    id: int
    item_id: int
    user_id: int | None
    answer: Any
    config_version: int
    lead_time_ms: int | None
    created_at: datetime


def list_labels(
    session: Session, actor: Actor, project_id: int, *, after_id: int, limit: int
) -> Sequence[ListedLabel]:
    """A page of a project's labels; who gave each only for :func:`sees_contributors`."""
    authorize_project(session, actor, "labels.read", project_id)
    named = sees_contributors(session, actor, project_id)
    rows = session.scalars(
        select(Label)
        .where(Label.project_id == project_id, Label.id > after_id)
        .order_by(Label.id)
        .limit(limit)
    ).all()
    return [
        ListedLabel(
            id=row.id,
            item_id=row.item_id,
            user_id=row.user_id if named else None,
            answer=row.answer,
            config_version=row.config_version,
            lead_time_ms=row.lead_time_ms,
            created_at=row.created_at,
        )
        for row in rows
    ]
