"""Label efficiency: how the model's accuracy grew with the human labels bought.

For every model version: its gold-set accuracy against the number of labelled items
it was trained on (the project's selection strategy), the human labels and the ledger
cost behind it, and a **random control** — what the same trainer reaches when the items
are drawn at random instead of by the strategy. The control is one of two kinds, and
the report names which (:attr:`RandomControl.kind`):

* ``"audit"`` (what any project has): the same trainer fitted, with each version, on
  the random-audit items alone plus the hand-labelled seed items. These are the only
  items people labelled that were drawn uniformly at random, so this control is real
  data, but it stops at the audit's size (``audit_share`` of each selection): it is
  **not** an equal-budget comparison beyond its own first points. To compare at equal
  budgets on real labels, grow the audit sample (``loupe loop configure
  --audit-share``).
* ``"simulated"`` (simulations only: :func:`label_efficiency` with ``simulate``): at
  every budget of the strategy's curve the same trainer is fitted on the same seed
  items plus items drawn uniformly at random from the pool the strategy chose from (the
  items that had a prediction when that version was trained), over several seeded
  draws (:func:`loupe.learning.control.random_control`). A drawn item people labelled
  keeps its consensus answer; any other gets a SIMULATED label from ``simulate``, and
  each point says how many of its labels were simulated. It is scored on today's gold
  set with the latest version's trainer.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.loop_models import ModelVersionRecord, Prediction
from loupe.db.models import Consensus, Item, Project
from loupe.db.quality_models import GoldAnswer
from loupe.errors import InvalidInput
from loupe.label_schema import SingleChoice
from loupe.learning.scope import evaluate_model
from loupe.services.access import Actor, authorize_project
from loupe.services.model_loop.loop_settings import LoopSettings, loop_settings
from loupe.services.model_loop.model_versions import (
    current_champion,
    declared_oos_label,
    shadowed_challenger,
)
from loupe.services.model_loop.predictions import ModelAgreement, model_agreement
from loupe.services.projects.definition import project_schema

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ControlItem",
    "ControlKind",
    "ControlPoint",
    "CurvePoint",
    "EfficiencyReport",
    "LabelSimulator",
    "RandomControl",
    "label_efficiency",
]

ControlKind = Literal["audit", "simulated"]


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One model version on the learning curve (and its stored audit-only control)."""

    version: int
    n_items: int  # labelled items in its training set
    n_labels: int  # human labels bought so far (overlap included)
    accuracy: float
    macro_f1: float
    oos_recall: float | None
    control_items: int  # random-audit and seed items (the audit-only control)
    control_accuracy: float | None
    cost_minor: int
    promoted: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ControlItem:
    """A pool item the simulated control drew that nobody labelled: what a simulator
    needs to label it."""

    external_id: str
    language: str | None
    domain: str


LabelSimulator = Callable[[ControlItem, "np.random.Generator"], str]
"""A SIMULATED label for an item nobody labelled, drawn with the generator given."""


@dataclass(frozen=True, slots=True)
class ControlPoint:
    """The control beside one version of the strategy's curve."""

    version: int
    budget: int  # the strategy's labelled items at this version
    n_items: int  # the control's
    accuracy: float | None  # mean over the scored draws
    sd: float | None  # sample standard deviation over the draws (None for one fit)
    draws: int  # draws scored
    simulated: float  # mean simulated labels per draw


@dataclass(frozen=True, slots=True)
class RandomControl:
    """The random control and what kind it is (see the module docstring)."""

    kind: ControlKind
    points: list[ControlPoint]
    draws: int
    random_state: int | None

    @property
    def equal_budgets(self) -> bool:
        """True when every point trained on as many items as the strategy did."""
        return all(p.n_items == p.budget for p in self.points)

    @property
    def name(self) -> str:
        """A legend for charts, saying what kind of control it is."""
        if self.kind == "simulated":
            return f"random control, equal budgets (SIMULATED; mean of {self.draws} draws)"
        return "random control (audit items only)"


@dataclass(frozen=True)
class EfficiencyReport:
    project_id: int
    project_name: str
    settings: LoopSettings
    currency: str | None
    points: list[CurvePoint]
    agreement: ModelAgreement
    control: RandomControl
    # Which model served: the champion now, a challenger in shadow, and the predictions
    # received per reported model version ("v3", or "unknown").
    champion: int | None = None
    shadowing: int | None = None
    served_by: dict[str, int] | None = None

    @property
    def total_cost_minor(self) -> int:
        return self.points[-1].cost_minor if self.points else 0


def label_efficiency(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    simulate: LabelSimulator | None = None,
    draws: int = 5,
    random_state: int = 0,
) -> EfficiencyReport:
    """The project's learning curve, oldest version first, with its random control.

    Without ``simulate`` the control is the stored audit-only one (``kind="audit"``).
    With it (simulations only) the control is recomputed at every budget of the curve
    (``kind="simulated"``; ``draws`` seeded draws from ``random_state``).
    """
    project = authorize_project(session, actor, "labels.read", project_id)
    rows = session.scalars(
        select(ModelVersionRecord)
        .where(ModelVersionRecord.project_id == project_id)
        .order_by(ModelVersionRecord.version)
    ).all()
    points = [
        CurvePoint(
            version=row.version,
            n_items=len(row.training_ids),
            n_labels=row.n_labels,
            accuracy=float(row.metrics["accuracy"]),
            macro_f1=float(row.metrics["macro_f1"]),
            oos_recall=row.metrics.get("oos_recall"),
            control_items=row.n_control,
            control_accuracy=(
                float(row.control_metrics["accuracy"]) if row.control_metrics else None
            ),
            cost_minor=row.cost_minor,
            promoted=row.promoted,
            created_at=row.created_at,
        )
        for row in rows
    ]
    settings = loop_settings(session, actor, project_id)
    if simulate is None:
        control = _audit_control(points)
    else:
        control = _simulated_control(
            session, project, rows, settings,
            simulate=simulate, draws=draws, random_state=random_state,
        )  # fmt: skip
    currency = next((row.currency for row in reversed(rows) if row.currency), None)
    champion = current_champion(session, project_id)
    pending = shadowed_challenger(session, project_id)
    return EfficiencyReport(
        project_id=project_id,
        project_name=project.name,
        settings=settings,
        currency=currency,
        points=points,
        agreement=model_agreement(session, actor, project_id),
        control=control,
        champion=champion.version if champion is not None else None,
        shadowing=pending.version if pending is not None else None,
        served_by={
            str(version or "unknown"): int(n)
            for version, n in session.execute(
                select(Prediction.model_version, func.count())
                .where(Prediction.project_id == project_id)
                .group_by(Prediction.model_version)
                .order_by(Prediction.model_version)
            )
        },
    )


def _audit_control(points: list[CurvePoint]) -> RandomControl:
    """The stored control: each version's trainer on the audit and seed items alone."""
    return RandomControl(
        kind="audit",
        points=[
            ControlPoint(
                version=p.version,
                budget=p.n_items,
                n_items=p.control_items,
                accuracy=p.control_accuracy,
                sd=None,
                draws=0 if p.control_accuracy is None else 1,
                simulated=0.0,
            )
            for p in points
        ],
        draws=1,
        random_state=None,
    )


def _simulated_control(
    session: Session,
    project: Project,
    records: Sequence[ModelVersionRecord],
    settings: LoopSettings,
    *,
    simulate: LabelSimulator,
    draws: int,
    random_state: int,
) -> RandomControl:
    """An equal-budget random control at every version (see the module docstring)."""
    from loupe.learning import get_trainer  # scikit-learn on first use
    from loupe.learning.control import ControlStep, random_control

    project_id = project.id
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        raise InvalidInput("the label-efficiency control applies to single_choice projects")
    text_field = schema.text_field
    gold = session.execute(
        select(Item.data, GoldAnswer.answer)
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(Item.project_id == project_id, Item.withheld.is_(False))
        .order_by(Item.id)
    ).all()
    gold_texts = [str(data.get(text_field, "")) for data, _ in gold]
    gold_answers = [str(answer) for _, answer in gold]
    oos = declared_oos_label(schema.task)
    trainer = records[-1].trainer if records else settings.trainer

    def score(texts: Sequence[str], labels: Sequence[str]) -> float | None:
        if len(set(labels)) < 2 or not gold_texts:
            return None
        model = get_trainer(trainer).fit(list(texts), list(labels))
        return evaluate_model(
            gold_answers, model, gold_texts, threshold=settings.oos_threshold, oos_label=oos
        ).accuracy

    items = session.execute(
        select(
            Item.id,
            Item.external_id,
            Item.data,
            Item.language,
            Item.domain,
            Item.created_at,
            Prediction.resolution,
            Consensus.answer,
        )
        .outerjoin(Prediction, Prediction.item_id == Item.id)
        .outerjoin(Consensus, Consensus.item_id == Item.id)
        .where(Item.project_id == project_id, Item.is_gold.is_(False), Item.withheld.is_(False))
        .order_by(Item.created_at, Item.id)
    ).all()
    # The pool: every item the selection chose from (it had a prediction), in arrival
    # order, with the people's consensus where the selection sent it to them. The seed:
    # items labelled without a prediction (by hand), which the control keeps.
    pool = [row for row in items if row.resolution is not None]
    seed = [row for row in items if row.resolution is None and row.answer is not None]
    seed_index = {row.id: i for i, row in enumerate(seed)}
    arrived = [row.created_at for row in pool]
    steps = [
        ControlStep(
            budget=len(record.training_ids),
            available=bisect.bisect_right(arrived, record.created_at),
            seed=tuple(
                sorted(seed_index[int(i)] for i in record.training_ids if int(i) in seed_index)
            ),
        )
        for record in records
    ]

    def simulated(index: int, rng: np.random.Generator) -> str:
        row = pool[index]
        return simulate(ControlItem(row.external_id, row.language, row.domain), rng)

    found = random_control(
        [str(row.data.get(text_field, "")) for row in pool],
        [
            str(row.answer) if row.resolution == "human" and row.answer is not None else None
            for row in pool
        ],
        steps,
        score=score,
        seed_texts=[str(row.data.get(text_field, "")) for row in seed],
        seed_labels=[str(row.answer) for row in seed],
        simulate=simulated,
        draws=draws,
        random_state=random_state,
    )
    return RandomControl(
        kind="simulated",
        points=[
            ControlPoint(
                version=record.version,
                budget=point.budget,
                n_items=point.n_items,
                accuracy=point.mean,
                sd=point.sd if len(point.scores) > 1 else None,
                draws=len(point.scores),
                simulated=point.simulated,
            )
            for record, point in zip(records, found, strict=True)
        ],
        draws=draws,
        random_state=random_state,
    )
