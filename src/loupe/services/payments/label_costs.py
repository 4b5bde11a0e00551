"""Cost per accurate label, day by day: what a project pays for each label that turned
out right.

For each day (UTC): the project's spending that day on the payment ledger (earnings,
bonuses and corrections, summed from their logged bytes; payouts only move money
already counted) divided by the
labels given that day that match their item's settled answer (boxes, segments and
transcripts: pass against it as against gold,
:func:`loupe.services.labelling.answer_matching.answer_matches`)
— the gold answer on a
gold item, else the consensus of an item that has all its labels and no open
escalation (an expert's or adjudicator's decision replaces the consensus). Labels on
items not settled yet do not count, so the latest days read high until they settle;
rejected work counts in the spending and never in the accurate labels, which is the
point of the measure.

The labels of the window are compared in Python (answers are JSON), the most recent
:data:`MAX_LABELS` of them at most; days older than those are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from loupe.db.models import Consensus, Item, Label, utcnow
from loupe.db.quality_models import Escalation, GoldAnswer
from loupe.services.access import Actor, authorize_project
from loupe.services.labelling.answer_matching import answer_matches
from loupe.services.payments.ledger_store import (
    ColumnCheck,
    checked_entries,
    project_stored_entries,
)
from loupe.services.projects.definition import project_schema

__all__ = ["MAX_LABELS", "CostPerAccurateLabel", "DayCost", "cost_per_accurate_label"]

MAX_LABELS = 100_000


@dataclass(frozen=True, slots=True)
class DayCost:
    day: date
    spent_minor: int
    labels: int  # given that day
    settled: int  # of those, on items with a settled answer
    accurate: int  # of those, matching it
    per_accurate_minor: float | None  # None: no accurate label that day


@dataclass(frozen=True, slots=True)
class CostPerAccurateLabel:
    currency: str | None  # the project's main currency in the window; None: nothing spent
    days: list[DayCost]  # oldest first
    spent_minor: int
    accurate: int

    @property
    def overall_minor(self) -> float | None:
        return self.spent_minor / self.accurate if self.accurate else None


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cost_per_accurate_label(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    days: int = 14,
    now: datetime | None = None,
) -> CostPerAccurateLabel:
    """The last ``days`` days (today included); needs ``payments.manage`` on the project."""
    project = authorize_project(session, actor, "payments.manage", project_id)
    schema = project_schema(project)
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)

    # From the entries' logged bytes, each checked against its columns (refuses, naming
    # the position, when one disagrees); the secret is not needed for amounts and days.
    check = ColumnCheck(session, None)
    rows_spent = project_stored_entries(session, project_id, since=since)
    totals: Counter[str] = Counter()
    by_day: Counter[tuple[date, str]] = Counter()
    for _, entry in checked_entries(check, rows_spent):
        when = datetime.fromtimestamp(entry.timestamp, UTC).date()
        totals[entry.currency] += entry.balance_change
        by_day[when, entry.currency] += entry.balance_change
    currency = totals.most_common(1)[0][0] if totals else None
    spent = {d: total for (d, cur), total in by_day.items() if cur == currency}

    rows = session.execute(
        select(
            Label.created_at,
            Label.answer,
            Consensus.answer,
            GoldAnswer.answer,
            Item.is_gold,
            and_(
                Item.is_complete,
                or_(Escalation.item_id.is_(None), Escalation.resolved_at.is_not(None)),
            ).label("closed"),
        )
        .join(Item, Item.id == Label.item_id)
        .outerjoin(Consensus, Consensus.item_id == Label.item_id)
        .outerjoin(GoldAnswer, GoldAnswer.item_id == Label.item_id)
        .outerjoin(Escalation, Escalation.item_id == Label.item_id)
        .where(Label.project_id == project_id, Label.created_at >= since)
        .order_by(Label.id.desc())
        .limit(MAX_LABELS + 1)
    ).all()
    if len(rows) > MAX_LABELS:
        # Only whole days: the oldest day reached may be cut, so it is left out too.
        first = max(first, _as_date(rows[MAX_LABELS - 1].created_at) + timedelta(days=1))
        rows = rows[:MAX_LABELS]
    labels: Counter[date] = Counter()
    settled: Counter[date] = Counter()
    accurate: Counter[date] = Counter()
    for created, answer, consensus, gold, is_gold, closed in rows:
        when = _as_date(created)
        labels[when] += 1
        truth: Any = gold if is_gold and gold is not None else (consensus if closed else None)
        if truth is None:
            continue
        settled[when] += 1
        if answer_matches(schema.task, answer, truth, max_wer=schema.quality.gold_max_wer):
            accurate[when] += 1

    out = []
    n_days = (now.date() - first).days + 1
    for offset in range(max(n_days, 0)):
        when = first + timedelta(days=offset)
        money, right = spent.get(when, 0), accurate[when]
        out.append(
            DayCost(
                day=when,
                spent_minor=money,
                labels=labels[when],
                settled=settled[when],
                accurate=right,
                per_accurate_minor=round(money / right, 2) if right else None,
            )
        )
    return CostPerAccurateLabel(
        currency=currency,
        days=out,
        spent_minor=sum(d.spent_minor for d in out),
        accurate=sum(d.accurate for d in out),
    )
