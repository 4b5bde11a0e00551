"""What the annotator workspace shows around a task: the model's pre-label, gold
status and the annotator's tally for today — and which of a project's work pages
(labelling, review, expert queue, adjudication) a person can use.

The task itself comes from :func:`loupe.services.tasks.next_task` (a lease, the
item's stored data: what the privacy gate left visible). The pre-label is read from
the item's metadata (``metadata.prediction``: a label key, or an object with
``label`` and an optional ``score``), only for the item the annotator now holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.ledger_models import LedgerEntry
from loupe.db.models import Label, utcnow
from loupe.db.raw import Raw
from loupe.label_schema import LabelSchema
from loupe.policy import Action, allowed
from loupe.reputation import tier_at_least
from loupe.services.access import Actor, authorize_project, member_role
from loupe.services.projects import project_schema
from loupe.services.reputation import expert_domains, tiers_of
from loupe.services.routing import load_profile
from loupe.services.tasks import Task, next_task

__all__ = [
    "Capabilities",
    "Prediction",
    "Tally",
    "WorkspaceProject",
    "WorkspaceTask",
    "capabilities",
    "next_for_workspace",
    "today",
    "workspace_project",
]

_META = "SELECT metadata FROM items WHERE id = :item"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: Any
    score: float | None


@dataclass(frozen=True, slots=True)
class WorkspaceTask:
    task: Task
    prediction: Prediction | None
    gold: bool


@dataclass(frozen=True, slots=True)
class WorkspaceProject:
    id: int
    name: str
    guidelines: str
    schema: LabelSchema
    overlap: int


@dataclass(frozen=True, slots=True)
class Tally:
    labels: int
    earnings: dict[str, int]  # currency -> minor units, today (UTC)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Which of a project's pages a person can use now (for links; each page re-checks)."""

    work: bool  # label items
    review: bool  # peer review: a project reviewer or manager, or an annotator at the tier
    expert: bool  # answer escalated items: a level or the expert tier in some domain
    adjudicate: bool  # decide what experts passed up
    monitor: bool  # the dashboard
    qualify: bool  # take the project's qualification tests


def workspace_project(
    session: Session, actor: Actor, project_id: int, *, action: Action = "tasks.work"
) -> WorkspaceProject:
    """The project as the work pages need it, for those who may do ``action`` in it."""
    project = authorize_project(session, actor, action, project_id)
    return WorkspaceProject(
        id=project.id,
        name=project.name,
        guidelines=project.guidelines,
        schema=project_schema(project),
        overlap=project.overlap,
    )


def _prediction(meta: Any) -> Prediction | None:
    value = meta.get("prediction") if isinstance(meta, dict) else None
    if isinstance(value, dict) and "label" in value:
        score = value.get("score")
        return Prediction(value["label"], float(score) if isinstance(score, int | float) else None)
    if isinstance(value, str | list):
        return Prediction(value, None)
    return None


def next_for_workspace(
    session: Session, actor: Actor, project_id: int, *, lease_seconds: int
) -> WorkspaceTask | None:
    """:func:`~loupe.services.tasks.next_task` plus the item's pre-label and gold flag."""
    task = next_task(session, actor, project_id, lease_seconds=lease_seconds)
    if task is None:
        return None
    raw = Raw(session)
    row = raw.one(_META, item=task.item_id)
    meta = raw.json_out(row[0]) if row else {}
    gold = isinstance(meta, dict) and bool(meta.get("gold"))
    return WorkspaceTask(task=task, prediction=_prediction(meta), gold=gold)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def today(session: Session, actor: Actor, project_id: int, *, now: datetime | None = None) -> Tally:
    """The actor's labels in this project since midnight UTC, and what they earned."""
    authorize_project(session, actor, "tasks.work", project_id)
    since = _day_start(now or utcnow())
    labels = session.scalar(
        select(func.count()).where(
            Label.project_id == project_id,
            Label.user_id == actor.user_id,
            Label.created_at >= since,
        )
    )
    rows = session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.delta_minor))
        .where(
            LedgerEntry.project_id == project_id,
            LedgerEntry.user_id == actor.user_id,
            LedgerEntry.kind != "payout",
            LedgerEntry.created_at >= since,
        )
        .group_by(LedgerEntry.currency)
        .order_by(LedgerEntry.currency)
    ).all()
    return Tally(labels=int(labels or 0), earnings={str(c): int(t or 0) for c, t in rows})


def capabilities(
    session: Session, actor: Actor, project_id: int, *, now: datetime | None = None
) -> Capabilities:
    """What ``actor`` can do in the project, as the pages' links show it.

    Reviewing and the expert queue also depend on standing: an annotator reviews once
    their reputation reaches the project's ``review.min_tier`` in a domain, and answers
    escalated items with the project's expert level (or the expert tier) in a domain.
    """
    project = authorize_project(session, actor, "projects.read", project_id)
    role = member_role(session, project_id, actor.user_id)
    work = allowed(actor.role, "tasks.work", member_role=role)
    review = expert = False
    if actor.user_id is not None:
        raw = Raw(session)
        schema = project_schema(project)
        if allowed(actor.role, "reviews.work", member_role=role):
            review = role in ("reviewer", "manager") or any(
                tier_at_least(tier, schema.review.min_tier)  # type: ignore[arg-type]
                for tier in tiers_of(raw, actor.user_id).values()
            )
        if work:
            profile = load_profile(raw, actor.user_id, now=now or utcnow(), project_id=project_id)
            expert = bool(expert_domains(raw, actor.user_id, profile, schema.routing.expert_level))
    return Capabilities(
        work=work,
        review=review,
        expert=expert,
        adjudicate=allowed(actor.role, "escalations.resolve", member_role=role),
        monitor=allowed(actor.role, "labels.read", member_role=role),
        qualify=allowed(actor.role, "qualifications.take", member_role=role),
    )
