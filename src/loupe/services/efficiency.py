"""Label efficiency: how the model's accuracy grew with the human labels bought.

For every model version: its gold-set accuracy against the number of labelled
items it was trained on (the project's selection strategy), the same trainer's
accuracy on the random-audit items alone (the control: what random sampling
buys for the same effort), the human labels and the ledger cost behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.loop_models import ModelVersionRecord
from loupe.services.access import Actor, authorize_project
from loupe.services.loop import LoopSettings, loop_settings
from loupe.services.predictions import ModelAgreement, model_agreement

__all__ = ["CurvePoint", "EfficiencyReport", "label_efficiency"]


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One model version on the learning curve."""

    version: int
    n_items: int  # labelled items in its training set
    n_labels: int  # human labels bought so far (overlap included)
    accuracy: float
    macro_f1: float
    oos_recall: float | None
    control_items: int
    control_accuracy: float | None
    cost_minor: int
    promoted: bool
    created_at: datetime


@dataclass(frozen=True)
class EfficiencyReport:
    project_id: int
    project_name: str
    settings: LoopSettings
    currency: str | None
    points: list[CurvePoint]
    agreement: ModelAgreement

    @property
    def total_cost_minor(self) -> int:
        return self.points[-1].cost_minor if self.points else 0


def label_efficiency(session: Session, actor: Actor, project_id: int) -> EfficiencyReport:
    """The project's learning curve, oldest version first."""
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
    currency = next((row.currency for row in reversed(rows) if row.currency), None)
    return EfficiencyReport(
        project_id=project_id,
        project_name=project.name,
        settings=loop_settings(session, actor, project_id),
        currency=currency,
        points=points,
        agreement=model_agreement(session, actor, project_id),
    )
