"""A project's progress for its managers: items done, throughput, contributors,
agreement and cost to date (the manager dashboard reads this one summary).

Agreement is Fleiss' kappa and Krippendorff's alpha (nominal) from
:mod:`loupe.aggregation.agreement` over the project's most recent labels
(:data:`AGREEMENT_SAMPLE`), so the page stays fast on large projects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loupe.aggregation.agreement import fleiss_kappa, krippendorff_alpha
from loupe.db.ledger_models import LedgerEntry
from loupe.db.models import Item, Label, User, utcnow
from loupe.policy import allowed
from loupe.services.access import Actor, authorize_project, member_role

__all__ = [
    "AGREEMENT_SAMPLE",
    "Agreement",
    "ContributorCount",
    "DayCount",
    "Progress",
    "project_progress",
]

AGREEMENT_SAMPLE = 50_000
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
class Agreement:
    fleiss_kappa: float | None  # None: not computable (no item with two answers yet)
    krippendorff_alpha: float | None
    items: int  # items with at least two answers


@dataclass(frozen=True, slots=True)
class Progress:
    project_id: int
    name: str
    overlap: int
    items: int
    labelled: int  # at least one label
    complete: int  # all the labels the overlap asks for
    withheld: int  # held back by the privacy gate
    labels: int
    per_day: list[DayCount]  # the last ``days`` days, oldest first, zeros included
    contributors: list[ContributorCount]  # most labels first
    agreement: Agreement
    cost: dict[str, int] | None  # currency -> minor units; None: not yours to see


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


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
    totals = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Item.label_count > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Item.is_complete, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Item.withheld, 1), else_=0)), 0),
        ).where(Item.project_id == project_id)
    ).one()
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

    rows = session.execute(
        select(Label.item_id, Label.user_id, Label.answer)
        .where(Label.project_id == project_id)
        .order_by(Label.id.desc())
        .limit(AGREEMENT_SAMPLE)
    ).all()
    agreement = _agreement(tuple(row) for row in rows)

    cost: dict[str, int] | None = None
    role = member_role(session, project_id, actor.user_id)
    if allowed(actor.role, "payments.manage", member_role=role):
        cost = {
            str(currency): int(total or 0)
            for currency, total in session.execute(
                select(LedgerEntry.currency, func.sum(LedgerEntry.delta_minor))
                .where(LedgerEntry.project_id == project_id, LedgerEntry.kind != "payout")
                .group_by(LedgerEntry.currency)
                .order_by(LedgerEntry.currency)
            ).all()
        }
    return Progress(
        project_id=project.id,
        name=project.name,
        overlap=project.overlap,
        items=int(totals[0]),
        labelled=int(totals[1]),
        complete=int(totals[2]),
        withheld=int(totals[3]),
        labels=int(n_labels),
        per_day=per_day,
        contributors=contributors,
        agreement=agreement,
        cost=cost,
    )


def _agreement(rows: Iterable[tuple[Any, Any, Any]]) -> Agreement:
    items: list[int] = []
    workers: list[int] = []
    answers: list[str] = []
    for item_id, user_id, answer in rows:
        items.append(int(item_id))
        workers.append(int(user_id))
        # Multi-choice answers are lists; agreement treats each distinct set as one class.
        answers.append(json.dumps(answer, sort_keys=True))
    counts: dict[int, int] = {}
    for item_id in items:
        counts[item_id] = counts.get(item_id, 0) + 1
    paired = sum(1 for n in counts.values() if n >= 2)
    if paired == 0:
        return Agreement(None, None, 0)
    kappa = fleiss_kappa(items, workers, answers)
    alpha = krippendorff_alpha(items, workers, answers)
    return Agreement(_finite(kappa.kappa), _finite(alpha), paired)
