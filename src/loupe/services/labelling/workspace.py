"""What the annotator workspace shows around a task: the model's pre-label and the
annotator's tally for today — and which of a project's work pages (labelling, review,
expert queue, adjudication) a person can use.

The task itself comes from :func:`loupe.services.labelling.tasks.next_task` (a lease, the
item's stored data: what the privacy gate left visible). The pre-label is read from
the item's metadata (``metadata.prediction``: a label key, or an object with
``label`` and an optional ``score`` or ``confidence``), only for the item the
annotator now holds.

Gold items must look like any other until they are answered, so nothing served here
says whether an item is gold. In a project whose items people label carry the
model's suggestion (those the selection sent them, ``predictions`` rows with
resolution ``human``), a gold item without one gets a suggestion drawn the way the
model's suggestions fall on those items (:func:`draw_gold_prediction`) the first time
it is served, stored in its metadata shaped like any model prediction (no marker:
project reviewers read the metadata of items routed to them), so that every annotator,
and every reload, sees the same one. Managers know which items are gold from the gold
set itself.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.models import Label, utcnow
from loupe.db.queries.gold_answers import GOLD_ANSWER
from loupe.db.queries.items import ITEM_METADATA, SET_ITEM_METADATA
from loupe.db.queries.predictions import PREDICTED_ITEM_RANGE, PREDICTION_FROM_ITEM
from loupe.db.raw import Raw
from loupe.label_schema import LabelSchema, SingleChoice
from loupe.ledger.entries import utc_seconds
from loupe.permissions import Action, allowed
from loupe.reputation import tier_at_least
from loupe.services.access import Actor, authorize_project, authorize_project_fast, member_role
from loupe.services.labelling.tasks import Task, next_task
from loupe.services.payments.ledger_store import ColumnCheck, checked_entries, iter_stored_matching
from loupe.services.people.eligibility import load_profile
from loupe.services.people.standing import expert_domains, tiers_of
from loupe.services.projects.definition import project_schema

__all__ = [
    "Capabilities",
    "Prediction",
    "Tally",
    "WorkspaceProject",
    "WorkspaceTask",
    "capabilities",
    "draw_gold_prediction",
    "next_for_workspace",
    "today",
    "workspace_project",
]

# Gold items are drawn from the system's randomness: nobody can predict the decoy.
_rng = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class Prediction:
    label: Any
    score: float | None
    model_version: str | None = None  # of the prediction a gold suggestion was drawn from


@dataclass(frozen=True, slots=True)
class WorkspaceTask:
    """A task as the workspace serves it: the same shape for gold and ordinary items."""

    task: Task
    prediction: Prediction | None


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
        score = value.get("score", value.get("confidence"))
        return Prediction(value["label"], float(score) if isinstance(score, int | float) else None)
    if isinstance(value, str | list):
        return Prediction(value, None)
    return None


def draw_gold_prediction(
    raw: Raw, project_id: int, *, expected: Any, labels: list[str], rng: random.Random
) -> Prediction | None:
    """A suggestion for a gold item, drawn the way the model's suggestions fall on the
    items people are sent; ``None`` when no item people label carries one.

    One of those predictions is sampled. If people settled its item, the draw copies
    whether the model was right: right, it suggests the gold answer; wrong, a wrong
    label (the sample's own, or its settled answer when the sample's own is the gold
    answer). If not settled yet, a calibrated model is assumed: the gold answer with
    the sample's confidence as probability, else another label at random. The score is
    always the sample's confidence, so right and wrong suggestions are as sure as the
    model's.
    """
    bounds = raw.one(PREDICTED_ITEM_RANGE, project=project_id, human="human")
    if bounds is None or bounds.min_item_id is None or bounds.max_item_id is None:
        return None
    low, high = int(bounds.min_item_id), int(bounds.max_item_id)
    at = rng.randint(low, high)
    sample = raw.one(PREDICTION_FROM_ITEM, project=project_id, human="human", at=at)
    if sample is None:  # cannot happen (the max is in range); be safe all the same
        return None
    predicted, confidence = str(sample.label), float(sample.confidence)
    settled = raw.json_out(sample.consensus_answer)
    version = None if sample.model_version is None else str(sample.model_version)
    others = [label for label in labels if label != expected]
    if settled is not None:
        if predicted == settled:
            return Prediction(expected, confidence, version)
        wrong = predicted if predicted != expected else settled
        if wrong == expected or wrong not in labels:
            wrong = rng.choice(others) if others else expected
        return Prediction(wrong, confidence, version)
    if rng.random() < confidence or not others:
        return Prediction(expected, confidence, version)
    return Prediction(rng.choice(others), confidence, version)


def next_for_workspace(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int,
    rng: random.Random | None = None,
) -> WorkspaceTask | None:
    """:func:`~loupe.services.labelling.tasks.next_task` plus the item's pre-label.

    Gold and ordinary items come back alike (see the module docstring); ``rng`` draws
    a gold item's suggestion (default: the system's).
    """
    task = next_task(session, actor, project_id, lease_seconds=lease_seconds)
    if task is None:
        return None
    raw = Raw(session)
    row = raw.one(ITEM_METADATA, item=task.item_id)
    meta = raw.json_out(row.metadata) if row else {}
    if row is not None and row.is_gold and _prediction(meta) is None:
        meta = _decoy(raw, actor, project_id, task.item_id, rng or _rng)
    return WorkspaceTask(task=task, prediction=_prediction(meta))


def _decoy(raw: Raw, actor: Actor, project_id: int, item_id: int, rng: random.Random) -> Any:
    """The gold item's metadata with a drawn suggestion stored in it (once, for all)."""
    # Read again under the row lock: two annotators served it at once draw only once.
    row = raw.one(ITEM_METADATA.locked(raw.postgres), item=item_id)
    meta = raw.json_out(row.metadata) if row else {}
    meta = dict(meta) if isinstance(meta, dict) else {}
    if _prediction(meta) is not None:
        return meta
    schema = project_schema(authorize_project_fast(raw, actor, "tasks.work", project_id))
    expected = raw.one(GOLD_ANSWER, item=item_id)
    if not isinstance(schema.task, SingleChoice) or expected is None:
        return meta  # predictions apply to single-choice projects only
    drawn = draw_gold_prediction(
        raw,
        project_id,
        expected=raw.json_out(expected.answer),
        labels=[option.key for option in schema.task.labels],
        rng=rng,
    )
    if drawn is None:
        return meta
    score = None if drawn.score is None else round(drawn.score, 6)
    # Shaped exactly like an imported prediction (no marker): project reviewers list the
    # items routed to them, metadata included, and must not tell a gold item by it.
    meta["prediction"] = {
        "label": drawn.label,
        "confidence": score,
        "model_version": drawn.model_version,
    }
    raw.run(SET_ITEM_METADATA, meta=raw.json(meta), item=item_id)
    return meta


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def today(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    secret: bytes | None,
    now: datetime | None = None,
) -> Tally:
    """The actor's labels in this project since midnight UTC, and what they earned.

    Earnings are summed from the logged bytes of the actor's entries, each checked against
    its columns (``secret``, the ledger's, checks that each entry is the actor's):
    :class:`LedgerIntegrityError` naming the position when one disagrees.
    """
    authorize_project(session, actor, "tasks.work", project_id)
    since = _day_start(now or utcnow())
    labels = session.scalar(
        select(func.count()).where(
            Label.project_id == project_id,
            Label.user_id == actor.user_id,
            Label.created_at >= since,
        )
    )
    earnings: Counter[str] = Counter()
    if actor.user_id is not None:
        earnings = _earned_since(session, actor.user_id, project_id, since, secret=secret)
    return Tally(labels=int(labels or 0), earnings=dict(sorted(earnings.items())))


def _earned_since(
    session: Session, user_id: int, project_id: int, since: datetime, *, secret: bytes | None
) -> Counter[str]:
    # Newest first, stopping at the first entry logged before ``since`` (the log is
    # appended in time order), and by the leaf's timestamp rather than a created_at
    # filter: an entry whose created_at was moved back is still read, and refused.
    check = ColumnCheck(session, secret)
    start = utc_seconds(since)
    earned: Counter[str] = Counter()
    chunks = iter_stored_matching(
        session, user_id=user_id, project_id=project_id, newest_first=True, chunk_size=500
    )
    for chunk in chunks:
        for _, entry in checked_entries(check, chunk):
            if entry.timestamp < start:
                return earned
            if entry.kind != "payout":
                earned[entry.currency] += entry.balance_change
    return earned


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
