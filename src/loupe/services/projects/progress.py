"""A project's progress for its managers: where its items stand, throughput,
contributors, agreement and cost to date (the manager dashboard and
``GET /projects/{id}/progress`` read this one summary).

Every item is in exactly one of: *gold* (checks with a known answer), *withheld* by
the privacy gate, *resolved by the model* (the selection left its prediction as the
answer: no person labelled it), *settled by people* (labelled, with all the labels it
needs and no open escalation) or *waiting for people* (everything else: unlabelled,
short of labels, or escalated to an expert).

Agreement is :func:`loupe.services.quality.agreement.label_agreement`, the one definition the
quality report (``GET /projects/{id}/quality``) uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from loupe.db.loop_models import Prediction
from loupe.db.models import Item, Label, User, utcnow
from loupe.db.quality_models import Escalation
from loupe.permissions import allowed
from loupe.services.access import Actor, authorize_project, member_role
from loupe.services.payments.earnings import project_spending
from loupe.services.quality.agreement import AGREEMENT_SAMPLE, Agreement, label_agreement

__all__ = [
    "AGREEMENT_SAMPLE",
    "Agreement",
    "ContributorCount",
    "DayCount",
    "Progress",
    "project_progress",
]

TOP_CONTRIBUTORS = 20


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    labels: int


@dataclass(frozen=True, slots=True)
class ContributorCount:
    username: str
    labels: int


@dataclass(frozen=True, slots=True)
class Progress:
    project_id: int
    name: str
    overlap: int
    items: int  # all of them: the five figures below add up to it
    model_resolved: int  # the model's prediction is the answer; no person labelled it
    settled: int  # labelled by people, all the labels it needs, no open escalation
    waiting: int  # for people: unlabelled, short of labels, or escalated
    gold: int  # gold checks (outside the overlap: never "done")
    withheld: int  # held back by the privacy gate
    labelled: int  # at least one label (any of the above)
    labels: int  # human labels, gold checks included
    per_day: list[DayCount]  # the last ``days`` days, oldest first, zeros included
    contributors: list[ContributorCount]  # most labels first
    agreement: Agreement
    cost: dict[str, int] | None  # currency -> minor units; None: not yours to see


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def project_progress(
    session: Session, actor: Actor, project_id: int, *, days: int = 14, now: datetime | None = None
) -> Progress:
    """The dashboard's numbers; needs ``labels.read`` on the project (cost: ``payments.manage``)."""
    project = authorize_project(session, actor, "labels.read", project_id)
    now = now or utcnow()
    by_model = exists().where(Prediction.item_id == Item.id, Prediction.resolution == "model")
    escalated = exists().where(Escalation.item_id == Item.id, Escalation.resolved_at.is_(None))
    state = case(
        (Item.is_gold, "gold"),
        (Item.withheld, "withheld"),
        (and_(Item.label_count == 0, Item.is_complete, by_model), "model"),
        (and_(Item.label_count > 0, Item.is_complete, ~escalated), "settled"),
        else_="waiting",
    )
    states: dict[str, int] = dict(
        session.execute(
            select(state, func.count()).where(Item.project_id == project_id).group_by(state)
        ).all()
    )
    labelled = session.scalar(
        select(func.count()).where(Item.project_id == project_id, Item.label_count > 0)
    )
    n_labels = session.scalar(select(func.count()).where(Label.project_id == project_id)) or 0

    first_day = (now - timedelta(days=days - 1)).date()
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=now.tzinfo)
    day = func.date(Label.created_at)
    counted = {
        _as_date(d): int(n)
        for d, n in session.execute(
            select(day, func.count())
            .where(Label.project_id == project_id, Label.created_at >= since)
            .group_by(day)
        ).all()
    }
    per_day = [
        DayCount(first_day + timedelta(days=i), counted.get(first_day + timedelta(days=i), 0))
        for i in range(days)
    ]

    contributors = [
        ContributorCount(str(name), int(n))
        for name, n in session.execute(
            select(User.username, func.count(Label.id))
            .join(User, User.id == Label.user_id)
            .where(Label.project_id == project_id)
            .group_by(User.username)
            .order_by(func.count(Label.id).desc(), User.username)
            .limit(TOP_CONTRIBUTORS)
        ).all()
    ]

    agreement = label_agreement(session, actor, project_id)

    cost: dict[str, int] | None = None
    role = member_role(session, project_id, actor.user_id)
    if allowed(actor.role, "payments.manage", member_role=role):
        cost = project_spending(session, project_id)  # from the logged bytes
    return Progress(
        project_id=project.id,
        name=project.name,
        overlap=project.overlap,
        items=int(sum(states.values())),
        model_resolved=int(states.get("model", 0)),
        settled=int(states.get("settled", 0)),
        waiting=int(states.get("waiting", 0)),
        gold=int(states.get("gold", 0)),
        withheld=int(states.get("withheld", 0)),
        labelled=int(labelled or 0),
        labels=int(n_labels),
        per_day=per_day,
        contributors=contributors,
        agreement=agreement,
        cost=cost,
    )
