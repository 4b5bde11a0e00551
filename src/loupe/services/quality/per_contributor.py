"""Quality per contributor in one project: the manager's table behind ``/quality/contributors``.

Each figure comes from the service that already computes it, never re-derived here:
gold accuracy with its Wilson interval and the model-estimated skill from
:func:`loupe.services.quality.agreement.quality_report`; agreement with settled consensus by the
definition the low-effort check uses (:data:`CONSENSUS_DEFINITION`, as in
``loupe.services.labelling.effort_checks``);
reviews received from the reviews table; pay summed from the
checked ledger leaves (as ``loupe.services.payments.earnings`` sums them, shown only to those who
manage payments and only with the ledger secret, which ties an entry to its contributor);
and the low-effort or gold pause (the membership's reason) as the flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import Review
from loupe.db.models import Consensus, Item, Label, Membership, User
from loupe.db.quality_models import WorkerSkill
from loupe.permissions import allowed
from loupe.services.access import Actor, member_role
from loupe.services.payments.ledger_store import ColumnCheck, checked_entries, iter_stored_matching
from loupe.services.quality.agreement import quality_report

__all__ = [
    "CONSENSUS_DEFINITION",
    "SORT_KEYS",
    "ContributorQuality",
    "SortKey",
    "contributor_quality",
    "skill_ranking",
]

CONSENSUS_DEFINITION = (
    "Agreement with settled consensus: the share of the contributor's labels on non-gold "
    "items whose answer equals the item's consensus answer, counting only items whose "
    "consensus rests on at least two labels (the definition the low-effort check uses)."
)

SortKey = Literal["username", "labels", "gold", "skill", "agreement", "reviews", "pay"]
SORT_KEYS: tuple[SortKey, ...] = (
    "username",
    "labels",
    "gold",
    "skill",
    "agreement",
    "reviews",
    "pay",
)


@dataclass(frozen=True, slots=True)
class ContributorQuality:
    """One contributor's row (``None``: no evidence of that kind yet)."""

    user_id: int
    username: str
    labels: int
    gold_answered: int
    gold_accuracy: float | None
    gold_low: float | None
    gold_high: float | None
    skill: float | None  # the aggregator's estimate (last refit)
    agreement: float | None
    agreement_n: int
    reviews: int
    reviews_accepted: int
    pay: dict[str, int] | None  # currency -> minor units; None: not shown to this reader
    flag: str | None  # the pause reason (low effort or gold), as the contributor sees it


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _pay_by_user(session: Session, project_id: int, secret: bytes) -> dict[int, dict[str, int]]:
    """Each contributor's earnings, bonuses and corrections in the project, per currency,
    from the checked leaves (the secret checks that each entry is theirs)."""
    check = ColumnCheck(session, secret)
    totals: dict[int, dict[str, int]] = {}
    for chunk in iter_stored_matching(session, project_id=project_id):
        for row, entry in checked_entries(check, chunk):
            if entry.kind == "payout" or row.user_id is None:
                continue
            mine = totals.setdefault(int(row.user_id), {})
            mine[entry.currency] = mine.get(entry.currency, 0) + entry.balance_change
    return totals


def _sort_value(row: ContributorQuality, key: SortKey) -> tuple[Any, ...]:
    """Rows without the figure sort last whichever way; ties by username."""
    value: Any
    if key == "username":
        return (0, row.username)
    if key == "labels":
        value = row.labels
    elif key == "gold":
        value = row.gold_accuracy
    elif key == "skill":
        value = row.skill
    elif key == "agreement":
        value = row.agreement
    elif key == "reviews":
        value = row.reviews_accepted / row.reviews if row.reviews else None
    else:
        value = sum(row.pay.values()) if row.pay else None
    return (1, 0.0, row.username) if value is None else (0, float(value), row.username)


def contributor_quality(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    secret: bytes | None,
    sort: SortKey = "username",
    descending: bool = False,
) -> list[ContributorQuality]:
    """Every contributor who labelled, answered gold or is a member working in the project.

    Needs ``labels.read`` (through :func:`quality_report`); pay needs ``payments.manage``
    and the ledger ``secret``.
    """
    report = quality_report(session, actor, project_id)
    gold = {g.user_id: g for g in report.gold}
    labels = dict(
        session.execute(
            select(Label.user_id, func.count())
            .where(Label.project_id == project_id)
            .group_by(Label.user_id)
        ).all()
    )
    members = dict(
        session.execute(
            select(Membership.user_id, Membership.paused_reason).where(
                Membership.project_id == project_id,
                Membership.role.in_(("annotator", "reviewer")),
            )
        ).all()
    )
    flags = dict(
        session.execute(
            select(Membership.user_id, Membership.paused_reason).where(
                Membership.project_id == project_id
            )
        ).all()
    )
    compared: dict[int, list[bool]] = {}
    for user, given, settled in session.execute(
        select(Label.user_id, Label.answer, Consensus.answer)
        .join(Consensus, Consensus.item_id == Label.item_id)
        .join(Item, Item.id == Label.item_id)
        .where(
            Label.project_id == project_id,
            Item.is_gold.is_(False),
            Consensus.n_labels >= 2,
        )
    ):
        compared.setdefault(int(user), []).append(_key(given) == _key(settled))
    reviews = {
        int(user): (int(n), int(ok or 0))
        for user, n, ok in session.execute(
            select(
                Review.labeller_id,
                func.count(),
                func.sum(cast(case((Review.verdict == "accept", 1), else_=0), Integer)),
            )
            .where(Review.project_id == project_id)
            .group_by(Review.labeller_id)
        ).all()
    }
    pay: dict[int, dict[str, int]] | None = None
    role = member_role(session, project_id, actor.user_id)
    if secret is not None and allowed(actor.role, "payments.manage", member_role=role):
        pay = _pay_by_user(session, project_id, secret)
    users = set(labels) | set(gold) | set(members) | set(reviews)
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(users))).all())
    rows = []
    for user in users:
        g = gold.get(user)
        agree = compared.get(user, [])
        n_reviews, accepted = reviews.get(user, (0, 0))
        rows.append(
            ContributorQuality(
                user_id=user,
                username=str(names.get(user, f"user {user}")),
                labels=int(labels.get(user, 0)),
                gold_answered=g.answered if g else 0,
                gold_accuracy=g.accuracy if g else None,
                gold_low=g.ci_low if g else None,
                gold_high=g.ci_high if g else None,
                skill=report.skills.get(user),
                agreement=sum(agree) / len(agree) if agree else None,
                agreement_n=len(agree),
                reviews=n_reviews,
                reviews_accepted=accepted,
                pay=None if pay is None else pay.get(user, {}),
                flag=flags.get(user),
            )
        )
    rows.sort(key=lambda r: _sort_value(r, "username"))
    present = [r for r in rows if _sort_value(r, sort)[0] == 0]
    absent = [r for r in rows if _sort_value(r, sort)[0] == 1]
    present.sort(key=lambda r: _sort_value(r, sort), reverse=descending)
    return present + absent


def skill_ranking(session: Session, project_id: int) -> list[tuple[int, float, int]]:
    """``(user_id, accuracy, labels)`` of the last fit's worker skills, most accurate first."""
    rows = session.execute(
        select(WorkerSkill.user_id, WorkerSkill.accuracy, WorkerSkill.n_labels)
        .where(WorkerSkill.project_id == project_id)
        .order_by(WorkerSkill.accuracy.desc(), WorkerSkill.user_id)
    ).all()
    return [(user_id, accuracy, n_labels) for user_id, accuracy, n_labels in rows]
