"""The escalation ladder as its managers see it: what waits, where, and for how long.

:func:`escalation_queue` summarises a project's open escalations (oldest first) for
the dashboard. :func:`next_adjudication` hands an adjudicator (a project manager or
an admin) the next item experts passed up, with the answers the crowd gave — never
who gave them. Adjudicators decide through
:func:`loupe.services.labelling.escalations.resolve_escalation`, like experts; no lease is
taken, as a project has few adjudicators and a second decision on the same item is
refused there. :func:`list_escalations` pages through them all, by item id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.models import Item, Label
from loupe.db.quality_models import Escalation
from loupe.services.access import Actor, authorize_project
from loupe.services.labelling.pairwise import blind
from loupe.services.projects.definition import project_schema
from loupe.services.projects.media_views import MediaEntry, media_for

__all__ = [
    "Adjudication",
    "EscalationQueue",
    "QueuedEscalation",
    "escalation_queue",
    "list_escalations",
    "next_adjudication",
]

STAGES = ("expert", "adjudicator")


@dataclass(frozen=True, slots=True)
class QueuedEscalation:
    item_id: int
    stage: str  # expert or adjudicator: the rung it waits on
    reason: str
    created_at: datetime
    n_labels: int
    flagged: bool  # a contributor flagged it (else the quality engine escalated it)


@dataclass(frozen=True, slots=True)
class EscalationQueue:
    open: int
    by_stage: dict[str, int]  # every stage, zeros included
    oldest: list[QueuedEscalation]  # up to ``limit``, oldest first


@dataclass(frozen=True, slots=True)
class Adjudication:
    """An item waiting for an adjudicator: as the privacy gate left it, with the crowd's
    answers (anonymous, oldest first) and the reasons it climbed the ladder."""

    item_id: int
    data: dict[str, Any]
    language: str | None
    domain: str
    reason: str
    created_at: datetime
    answers: list[Any]
    media: list[MediaEntry] = field(default_factory=list)  # the gated images, if any


def _open(project_id: int) -> Any:
    return (Escalation.project_id == project_id) & Escalation.resolved_at.is_(None)


def escalation_queue(
    session: Session, actor: Actor, project_id: int, *, limit: int = 50
) -> EscalationQueue:
    """Open escalations of the project, oldest first (``items.read``, like the API's list)."""
    authorize_project(session, actor, "items.read", project_id)
    counts = dict.fromkeys(STAGES, 0)
    for stage, n in session.execute(
        select(Escalation.stage, func.count()).where(_open(project_id)).group_by(Escalation.stage)
    ):
        counts[str(stage)] = int(n)
    rows = session.scalars(
        select(Escalation)
        .where(_open(project_id))
        .order_by(Escalation.created_at, Escalation.item_id)
        .limit(limit)
    ).all()
    return EscalationQueue(
        open=sum(counts.values()),
        by_stage=counts,
        oldest=[
            QueuedEscalation(
                item_id=row.item_id,
                stage=row.stage,
                reason=row.reason,
                created_at=row.created_at,
                n_labels=row.n_labels,
                flagged=row.flagged_by is not None,
            )
            for row in rows
        ],
    )


def next_adjudication(
    session: Session, actor: Actor, project_id: int, *, after: int = 0, item_id: int | None = None
) -> Adjudication | None:
    """The open adjudicator-stage item with the smallest id above ``after`` (or exactly
    ``item_id``, at either rung); ``None`` when none waits. Needs ``escalations.resolve``."""
    project = authorize_project(session, actor, "escalations.resolve", project_id)
    query = select(Escalation, Item).join(Item, Item.id == Escalation.item_id)
    query = query.where(_open(project_id))
    if item_id is not None:  # any open rung: an adjudicator may settle an expert-stage item
        query = query.where(Escalation.item_id == item_id)
    else:
        query = query.where(Escalation.stage == "adjudicator", Escalation.item_id > after)
    found = session.execute(query.order_by(Escalation.item_id).limit(1)).first()
    if found is None:
        return None
    escalation, item = found
    answers = session.scalars(
        select(Label.answer).where(Label.item_id == item.id).order_by(Label.id)
    ).all()
    return Adjudication(
        item_id=item.id,
        data=blind(project_schema(project), item.data),
        language=item.language,
        domain=item.domain,
        reason=escalation.reason,
        created_at=escalation.created_at,
        answers=list(answers),
        media=media_for(session, [item.id], listener=actor.user_id).get(item.id, []),
    )


def list_escalations(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    after_id: int,
    limit: int,
    open_only: bool = False,
) -> Sequence[Escalation]:
    """Items on the escalation ladder (with ``open_only``, those still waiting), by item id
    (keyset pagination)."""
    authorize_project(session, actor, "items.read", project_id)
    query = select(Escalation).where(
        Escalation.project_id == project_id, Escalation.item_id > after_id
    )
    if open_only:
        query = query.where(Escalation.resolved_at.is_(None))
    return session.scalars(query.order_by(Escalation.item_id).limit(limit)).all()
