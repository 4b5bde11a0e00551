"""The quality report: agreement between annotators (one definition for the dashboard
and the report), gold accuracy per annotator with Wilson intervals, open escalations
and fitted skills.

Gold is :mod:`loupe.services.quality.gold`, live consensus
:mod:`loupe.services.labelling.live_consensus`,
re-fits :mod:`loupe.services.quality.refits`; the maths is in :mod:`loupe.aggregation`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from loupe.db.models import Item, Label, Membership
from loupe.db.quality_models import Escalation, GoldResult, WorkerSkill
from loupe.services.access import Actor, authorize_project
from loupe.services.quality.gold import wilson_interval

__all__ = [
    "AGREEMENT_DEFINITION",
    "AGREEMENT_SAMPLE",
    "Agreement",
    "GoldStat",
    "PairStat",
    "QualityReport",
    "label_agreement",
    "quality_report",
]

# Agreement, one definition for the dashboard and the quality report (label_agreement).
AGREEMENT_SAMPLE = 50_000
AGREEMENT_DEFINITION = (
    "Fleiss' kappa and Krippendorff's alpha (nominal) over the labels on the project's "
    f"non-gold items, the most recent {AGREEMENT_SAMPLE:,} at most; each distinct answer "
    "is one category; items with at least two labels count."
)


@dataclass(frozen=True, slots=True)
class GoldStat:
    user_id: int
    answered: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    paused_reason: str | None


@dataclass(frozen=True, slots=True)
class PairStat:
    user_a: int
    user_b: int
    shared_items: int
    observed: float
    kappa: float | None


@dataclass(frozen=True, slots=True)
class QualityReport:
    n_labels: int  # the labels agreement counts (AGREEMENT_DEFINITION)
    n_items_labelled: int
    n_items_paired: int  # of those items, the ones with at least two labels
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    fleiss_kappa_per_label: dict[str, float | None]
    pairwise: list[PairStat]
    gold: list[GoldStat]
    escalated: int
    skills: dict[int, float] = field(default_factory=dict)
    agreement_definition: str = AGREEMENT_DEFINITION


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _category(encoded: Any) -> str:
    """A category as the report names it: the label key itself for a plain key."""
    value = json.loads(str(encoded))
    return value if isinstance(value, str) else str(encoded)


# --- agreement: one definition for the dashboard and the quality report ----------------


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement as :data:`AGREEMENT_DEFINITION` states it (``None``: not computable)."""

    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    items: int  # items with at least two labels
    labels: int  # labels counted
    definition: str = AGREEMENT_DEFINITION


class _Vote(NamedTuple):
    """One label as agreement counts it: the answer is one category's JSON text."""

    item_id: int
    user_id: int
    answer: str


def _agreement_rows(session: Session, project_id: int) -> list[_Vote]:
    rows = session.execute(
        select(Label.item_id, Label.user_id, Label.answer)
        .join(Item, Item.id == Label.item_id)
        .where(Label.project_id == project_id, Item.is_gold.is_(False))
        .order_by(Label.id.desc())
        .limit(AGREEMENT_SAMPLE)
    ).all()
    # Multi-choice answers are lists: each distinct (sorted) answer is one category.
    return [_Vote(int(i), int(u), json.dumps(a, sort_keys=True)) for i, u, a in rows]


def _agreement_of(rows: Sequence[_Vote]) -> tuple[Agreement, Any]:
    """The agreement of ``rows`` and Fleiss' per-category result (``None`` if no pair)."""
    counts = Counter(item for item, _, _ in rows)
    paired = sum(1 for n in counts.values() if n >= 2)
    if paired == 0:
        return Agreement(None, None, 0, len(rows)), None
    from loupe.aggregation.agreement import fleiss_kappa, krippendorff_alpha  # numpy on first use

    items = [r.item_id for r in rows]
    workers = [r.user_id for r in rows]
    answers = [r.answer for r in rows]
    fk = fleiss_kappa(items, workers, answers)
    alpha = _finite(krippendorff_alpha(items, workers, answers))
    return Agreement(_finite(fk.kappa), alpha, paired, len(rows)), fk


def label_agreement(session: Session, actor: Actor, project_id: int) -> Agreement:
    """The project's agreement (:data:`AGREEMENT_DEFINITION`); needs ``labels.read``."""
    authorize_project(session, actor, "labels.read", project_id)
    return _agreement_of(_agreement_rows(session, project_id))[0]


def quality_report(session: Session, actor: Actor, project_id: int) -> QualityReport:
    """Agreement (:data:`AGREEMENT_DEFINITION`: Krippendorff's alpha, Fleiss' kappa per
    project and label, pairwise Cohen's kappa), gold accuracy per annotator with Wilson
    intervals, escalations."""
    authorize_project(session, actor, "labels.read", project_id)
    rows = _agreement_rows(session, project_id)
    agreement, fk = _agreement_of(rows)
    alpha, kappa = agreement.krippendorff_alpha, agreement.fleiss_kappa
    per_label: dict[str, float | None] = {}
    pairs: list[PairStat] = []
    if fk is not None:
        from loupe.aggregation.agreement import pairwise_agreement  # numpy on first use

        items = [r.item_id for r in rows]
        workers = [r.user_id for r in rows]
        labels = [r.answer for r in rows]
        per_label = {_category(k): _finite(v) for k, v in fk.per_class.items()}
        pw = pairwise_agreement(items, workers, labels)
        pairs = [
            PairStat(int(a), int(b), int(n), float(o), _finite(k))
            for a, b, n, o, k in zip(
                pw.worker_a, pw.worker_b, pw.n_shared, pw.observed, pw.kappa, strict=True
            )
        ]
    paused = dict(
        session.execute(
            select(Membership.user_id, Membership.paused_reason).where(
                Membership.project_id == project_id
            )
        ).all()
    )
    gold: list[GoldStat] = []
    for user, answered, right in session.execute(
        select(
            GoldResult.user_id,
            func.count(),
            func.sum(cast(GoldResult.correct, Integer)),
        )
        .where(GoldResult.project_id == project_id)
        .group_by(GoldResult.user_id)
        .order_by(GoldResult.user_id)
    ):
        right = int(right or 0)
        low, high = wilson_interval(right, int(answered))
        gold.append(
            GoldStat(int(user), int(answered), right, right / answered, low, high, paused.get(user))
        )
    escalated = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.project_id == project_id, Escalation.resolved_at.is_(None))
    )
    skills = dict(
        session.execute(
            select(WorkerSkill.user_id, WorkerSkill.accuracy).where(
                WorkerSkill.project_id == project_id
            )
        ).all()
    )
    return QualityReport(
        n_labels=len(rows),
        n_items_labelled=len({r.item_id for r in rows}),
        n_items_paired=agreement.items,
        krippendorff_alpha=alpha,
        fleiss_kappa=kappa,
        fleiss_kappa_per_label=per_label,
        pairwise=pairs,
        gold=gold,
        escalated=int(escalated or 0),
        skills={int(k): round(float(v), 6) for k, v in skills.items()},
    )
