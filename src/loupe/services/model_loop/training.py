"""What a retrain trains on, and the fit: the slow part, run with no transaction open.

:func:`training_set` reads a project's resolved items; :func:`fit` fits the project's
trainer on them, and the same trainer on the random-audit and seed items alone (the
label-efficiency control). :func:`loupe.services.model_loop.model_versions.retrain`
evaluates and records what was fitted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.loop_models import Prediction
from loupe.db.models import Consensus, Item
from loupe.learning import AuditCalibratedTrainer, Model, get_trainer

if TYPE_CHECKING:
    from loupe.services.model_loop.retrain_scoring import GoldScore

__all__ = ["Fitted", "TrainingSet", "fit", "item_text", "training_set"]


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Labelled texts in item order; ``control`` marks the random-audit and seed items,
    ``audit`` the random-audit items alone (a sample of the traffic)."""

    item_ids: tuple[int, ...]
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    control: tuple[bool, ...]
    audit: tuple[bool, ...]

    @property
    def size(self) -> int:
        return len(self.texts)

    def digest(self) -> str:
        """SHA-256 of the (internal) item ids and labels trained on, in order."""
        payload = json.dumps(list(zip(self.item_ids, self.labels, strict=True)))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Fitted:
    """A challenger fitted by :func:`fit`: the trainer, the training set it was fitted on,
    and the models (``control_model`` on the random-audit and seed items alone, when they
    hold two classes); ``gold``: their scores on the gold set, when taken before the
    write transaction (:func:`~loupe.services.model_loop.retrain_scoring.fit_challenger`)."""

    trainer: str
    data: TrainingSet
    model: Model = field(repr=False)
    control_model: Model | None = field(repr=False)
    gold: GoldScore | None = field(default=None, repr=False)


def item_text(data: dict[str, Any], text_field: str) -> str:
    return str(data.get(text_field, ""))


def training_set(session: Session, project_id: int, *, text_field: str) -> TrainingSet:
    """Every resolved, non-gold, non-withheld item with its consensus answer."""
    from loupe.selection import AUDIT  # numpy on first use: the selection package needs it

    rows = session.execute(
        select(Item.id, Item.data, Consensus.answer, Prediction.strategy)
        .join(Consensus, Consensus.item_id == Item.id)
        .outerjoin(Prediction, Prediction.item_id == Item.id)
        .where(Item.project_id == project_id, Item.is_gold.is_(False), Item.withheld.is_(False))
        .order_by(Item.id)
    ).all()
    return TrainingSet(
        item_ids=tuple(int(row.id) for row in rows),
        texts=tuple(item_text(row.data, text_field) for row in rows),
        labels=tuple(str(row.answer) for row in rows),
        # No prediction: a seed item someone labelled by hand. Audit: drawn at random.
        control=tuple(row.strategy is None or row.strategy == AUDIT for row in rows),
        audit=tuple(row.strategy == AUDIT for row in rows),
    )


def fit(trainer: str, data: TrainingSet) -> Fitted:
    """Fit ``trainer`` on ``data`` (calibrated on its audit items where the trainer can
    be: :class:`~loupe.learning.AuditCalibratedTrainer`), and on its control items alone."""
    fitter = get_trainer(trainer)
    if isinstance(fitter, AuditCalibratedTrainer):
        model = fitter.fit_with_calibration(list(data.texts), list(data.labels), data.audit)
    else:
        model = fitter.fit(list(data.texts), list(data.labels))
    control = [i for i, flag in enumerate(data.control) if flag]
    control_labels = [data.labels[i] for i in control]
    control_model = (
        get_trainer(trainer).fit([data.texts[i] for i in control], control_labels)
        if len(set(control_labels)) >= 2
        else None
    )
    return Fitted(trainer, data, model, control_model)
