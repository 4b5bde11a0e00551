"""Submitting labels: validated against the schema, idempotent, within overlap.

The submit path is plain SQL for speed (see ``loupe.db.raw``). A new label earns per
the project's rate card, if it has one: the earning is appended to the payment log in
the same transaction (``loupe.services.payments.earn_for_label``).
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
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import Boxes, LabelSchema, Segments, Spans, Task, validate_answer
from loupe.services import webhooks
from loupe.services.access import (
    Actor,
    authorize_project,
    authorize_project_fast,
    sees_contributors,
)
from loupe.services.effort import check_effort
from loupe.services.gate import redact_answer
from loupe.services.ledger_keys import LedgerConfig
from loupe.services.payments import earn_for_label
from loupe.services.projects import project_schema
from loupe.services.quality import (
    GoldFeedback,
    answer_agreement,
    audio_duration_ms,
    image_size,
    live_consensus,
    record_gold,
)
from loupe.services.reputation import NewEvidence, record_evidence, record_many
from loupe.services.reviews import enqueue_for_review
from loupe.services.routing import require_eligible
from loupe.services.tasks import active_leases, release

__all__ = ["LabelRecord", "ListedLabel", "Submission", "list_labels", "submit_label"]

MAX_LEAD_TIME_MS = 7 * 24 * 3600 * 1000

_ITEM = (
    "SELECT project_id, label_count, domain, is_gold, min_level, is_complete FROM items "
    "WHERE id = :item"
)
_DATA = "SELECT data FROM items WHERE id = :item"
_LABELLERS = "SELECT user_id, answer FROM labels WHERE item_id = :item ORDER BY id"
# Consensus this sure counts as evidence about the labellers' skill (reputation).
SETTLED = 0.8
_MINE = (
    "SELECT id, answer, config_version, lead_time_ms, created_at FROM labels "
    "WHERE item_id = :item AND user_id = :user"
)
_LEASE = "SELECT expires_at FROM assignments WHERE item_id = :item AND user_id = :user"
_INSERT = (
    "INSERT INTO labels (project_id, item_id, user_id, answer, config_version, lead_time_ms, "
    "created_at) VALUES (:project, :item, :user, :answer, :version, :lead, :now) RETURNING id"
)
_COUNT = "UPDATE items SET label_count = :count, is_complete = :complete WHERE id = :item"


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
    ``actor`` was given on the item (by :func:`~loupe.services.tasks.next_task`, or
    :func:`~loupe.services.tasks.take_item` for staff): without one the submit is a
    :class:`Conflict` with reason ``no_lease`` and nothing is written, with the same
    message for gold and ordinary items, before anything about the item is checked, so
    the answer tells nothing about the item and gold feedback only ever reaches
    someone the gold item was served to. A lease that has expired still counts as
    served: the label is accepted while the item has room under its overlap (gold
    items are outside the overlap). A new label earns
    per the project's rate card (recorded with ``ledger``; a project with a rate card
    and no ``ledger`` is a :class:`Conflict`).
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
    canonical = validate_answer(schema.task, answer) if not _needs_text(schema) else None
    if lead_time_ms is not None and not 0 <= lead_time_ms <= MAX_LEAD_TIME_MS:
        raise InvalidInput(
            f"lead_time_ms: must be between 0 and {MAX_LEAD_TIME_MS}",
            details={"field": "lead_time_ms"},
        )

    item = raw.one(_ITEM + (" FOR UPDATE" if raw.postgres else ""), item=item_id)
    if item is None or item[0] != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    label_count = int(item[1])
    is_gold = bool(item[3])
    mine = raw.one(_MINE, item=item_id, user=user)
    lease = raw.one(_LEASE, item=item_id, user=user) if mine is None else None
    if mine is None and lease is None:
        # First, and the same for every item: answering by id what one was never
        # served would tell gold from ordinary items and harvest the expected answers.
        raise Conflict(
            f"you hold no lease on item {item_id}: ask for the next task "
            f"(POST /api/v1/projects/{project_id}/tasks/next) and submit before its lease "
            "expires",
            details={"item_id": item_id, "reason": "no_lease"},
        )
    if not schema.routing.is_open or item[4]:
        require_eligible(raw, schema.routing, user, item_id, now=now)
    if canonical is None:  # spans: against the item's text, boxes its image, segments audio
        canonical = validate_answer(
            schema.task,
            answer,
            text=_item_text(raw, schema, item_id) if isinstance(schema.task, Spans) else None,
            size=image_size(raw, schema, item_id),
            duration_ms=audio_duration_ms(raw, schema, item_id),
        )
    canonical = redact_answer(session, project_id, schema.task, canonical)

    if mine is not None:
        existing = raw.json_out(mine[1])
        if existing == canonical:
            record = LabelRecord(
                id=mine[0],
                item_id=item_id,
                user_id=user,
                answer=existing,
                config_version=mine[2],
                lead_time_ms=mine[3],
                created_at=raw.time_out(mine[4]),
            )
            return Submission(record, created=False)
        raise Conflict(
            f"you already labelled item {item_id} as {existing!r}; labels cannot be "
            "changed by resubmitting",
            details={"item_id": item_id, "label_id": mine[0]},
        )

    assert lease is not None
    # An expired lease: the item was served to this user, so the label is taken while
    # the item still has room (others may hold it now).
    has_lease = raw.time_out(lease[0]) > now
    taken = label_count
    if not has_lease:
        taken += active_leases(raw, item_id, now=now, exclude_user=user)
    # Gold items go to everyone, outside the overlap.
    if taken >= project.overlap and not is_gold:
        raise Conflict(
            f"item {item_id} already has the {project.overlap} label(s) it needs; "
            "ask for the next task instead",
            details={"item_id": item_id, "overlap": project.overlap},
        )

    inserted = raw.one(
        _INSERT,
        project=project_id,
        item=item_id,
        user=user,
        answer=raw.json(canonical),
        version=project.config_version,
        lead=lead_time_ms,
        now=raw.time(now),
    )
    assert inserted is not None
    count = label_count + 1
    release(raw, item_id=item_id, user_id=user)
    gold: GoldFeedback | None = None
    if is_gold:
        gold = record_gold(
            raw,
            project_id=project_id,
            item_id=item_id,
            user_id=user,
            answer=canonical,
            policy=schema.quality,
            now=now,
            task=schema.task,
        )
        complete = False
    else:
        consensus = live_consensus(
            raw,
            project_id=project_id,
            overlap=project.overlap,
            schema=schema,
            item_id=item_id,
            now=now,
        )
        if consensus.decision == "count":
            complete = count >= project.overlap
        else:  # dynamic overlap: the posterior decides
            complete = consensus.decision != "needs_more" or count >= project.overlap
        if complete and count > 1 and consensus.confidence >= SETTLED:
            _score_agreement(
                raw, session, item_id=item_id, project_id=project_id, domain=item[2],
                answer=consensus.vote.answer, now=now, task=schema.task,
            )  # fmt: skip
    raw.run(_COUNT, count=count, complete=complete, item=item_id)
    if complete and not item[5]:
        completed = {"item_id": item_id, "n_labels": count}
        webhooks.emit(raw, project_id, "item.completed", completed, now=now)
    if gold is not None:
        record_evidence(
            session,
            user_id=user,
            domain=item[2],
            project_id=project_id,
            kind="gold",
            success=1.0 if gold.correct else 0.0,
            ref=f"gold:item:{item_id}",
            now=now,
        )
    enqueue_for_review(
        raw,
        schema.review,
        rng=rng,
        label_id=int(inserted[0]),
        project_id=project_id,
        item_id=item_id,
        user_id=user,
        now=now,
    )
    check_effort(
        raw,
        session,
        project_id=project_id,
        user_id=user,
        schema=schema,
        label_id=int(inserted[0]),
        now=now,
    )
    earn_for_label(
        raw,
        session,
        ledger,
        project_id=project_id,
        task_type=str(project.config.get("task", {}).get("type", "*")),
        item_id=item_id,
        domain=item[2],
        user_id=user,
        label_id=int(inserted[0]),
        now=now,
        rule="gold.failed" if gold is not None and not gold.correct else "label.accepted",
        boxes=len(canonical) if isinstance(schema.task, Boxes) else 0,
    )
    record = LabelRecord(
        id=int(inserted[0]),
        item_id=item_id,
        user_id=user,
        answer=canonical,
        config_version=project.config_version,
        lead_time_ms=lead_time_ms,
        created_at=now,
    )
    return Submission(record, created=True, gold=gold)


def _score_agreement(
    raw: Raw,
    session: Session,
    *,
    item_id: int,
    project_id: int,
    domain: str,
    answer: Any,
    now: datetime,
    task: Task,
) -> None:
    """Once an item is settled with confidence, each of its labellers gets a piece of
    reputation evidence for agreeing with the settled answer (weighted a quarter of a
    gold answer: consensus can be wrong where gold cannot). Boxes and segments are never
    drawn to the pixel or millisecond alike: their evidence is the F1 of the labeller's
    against the fused ones; a transcript's is one minus its word error rate against the
    fused transcript (:func:`loupe.services.quality.answer_agreement`)."""
    evidence = [
        NewEvidence(
            int(user_id), domain, "consensus",
            answer_agreement(task, raw.json_out(given), answer),
            f"consensus:item:{item_id}",
        )
        for user_id, given in raw.all(_LABELLERS, item=item_id)
    ]  # fmt: skip
    record_many(session, evidence, project_id=project_id, now=now)


def _needs_text(schema: LabelSchema) -> bool:
    return isinstance(schema.task, Spans | Boxes | Segments)


def _item_text(raw: Raw, schema: LabelSchema, item_id: int) -> str | None:
    row = raw.one(_DATA, item=item_id)
    return schema.text_of(raw.json_out(row[0])) if row else None


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
