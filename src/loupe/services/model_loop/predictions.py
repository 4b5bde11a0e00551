"""Model feedback: a deployed model's predictions come in, the selection decides who answers.

Each batch of predictions is imported like any other items (idempotent by id,
through the privacy gate: :func:`loupe.services.projects.items.insert_items`), with the
prediction kept as a pre-label (``predictions`` table, and ``metadata.prediction``
on the item so the UI shows it). The selection (:func:`loupe.selection.select_batch`)
then picks which new items people should see, mixing the project's strategies by
weight within its labelling budget plus a uniformly random audit share; every
prediction records the strategy that picked it and, for audit items, the inclusion
probability, so that :func:`model_agreement` estimates the model's accuracy over
all traffic without bias (Hájek estimator, :mod:`loupe.selection.audit_sample`). Items
not picked are *model-resolved*: marked complete, never handed to annotators.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loupe.db.loop_models import LoopConfig, Prediction
from loupe.db.models import Consensus, Item, utcnow
from loupe.errors import InvalidInput
from loupe.formats import ItemRecord, parse_item
from loupe.label_schema import SingleChoice
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance.gate import PrivacyGate
from loupe.services.model_loop.loop_settings import stored_config
from loupe.services.projects.definition import project_schema
from loupe.services.projects.items import gate_ids, insert_items, keepless_gate

__all__ = [
    "MAX_PREDICTIONS",
    "ModelAgreement",
    "PredictionIn",
    "PredictionsResult",
    "ResolvedAnswer",
    "StrategyAgreement",
    "human_resolved_answers",
    "ingest_predictions",
    "model_agreement",
    "predicted_labels",
    "route_to_people",
]

MAX_PREDICTIONS = 1_000
NOVELTY_REFERENCE = 2_000  # labelled texts the novelty strategy compares against
_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class PredictionIn:
    """One item as the model saw it, with the model's answer."""

    id: str
    text: str
    label: str
    probabilities: dict[str, float]
    language: str | None = None
    domain: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None


@dataclass(frozen=True, slots=True)
class PredictionsResult:
    """What happened to a batch: new items, and how many go to people."""

    received: int
    created: int
    existing: int
    to_people: int
    model_resolved: int
    redacted: int
    by_strategy: dict[str, int]


def _check(
    rows: Sequence[PredictionIn], classes: tuple[str, ...]
) -> list[tuple[str, dict[str, float]]]:
    known = set(classes)
    checked = []
    for index, row in enumerate(rows):
        where = f"predictions[{index}]"
        if row.label not in known:
            raise InvalidInput(
                f"{where}.prediction.label: {row.label!r} is not one of the project's labels "
                f"{list(classes)}",
                details={"field": f"{where}.prediction.label", "allowed": list(classes)},
            )
        unknown = sorted(set(row.probabilities) - known)
        values = list(row.probabilities.values())
        if unknown:
            raise InvalidInput(
                f"{where}.prediction.probabilities: unknown labels {unknown}",
                details={"field": f"{where}.prediction.probabilities", "allowed": list(classes)},
            )
        if not values or any(not math.isfinite(p) or p < 0 for p in values):
            raise InvalidInput(
                f"{where}.prediction.probabilities: give finite, non-negative probabilities",
                details={"field": f"{where}.prediction.probabilities"},
            )
        if abs(sum(values) - 1.0) > _TOLERANCE:
            raise InvalidInput(
                f"{where}.prediction.probabilities: they sum to {sum(values):.4f}, not 1",
                details={"field": f"{where}.prediction.probabilities"},
            )
        total = sum(values)
        checked.append((row.label, {k: float(v) / total for k, v in row.probabilities.items()}))
    return checked


def _record(
    row: PredictionIn, label: str, probs: dict[str, float], text_field: str, index: int
) -> ItemRecord:
    confidence = max(probs.values())
    meta = dict(row.metadata)
    meta["prediction"] = {
        "label": label,
        "confidence": round(confidence, 6),
        "model_version": row.model_version,
    }
    return parse_item(
        {
            "id": row.id,
            text_field: row.text,
            "language": row.language,
            "domain": row.domain,
            "metadata": meta,
        },
        where=f"predictions[{index}]",
        text_field=text_field,
    )


def _novelty_features(
    session: Session, project_id: int, texts: list[str], text_field: str
) -> tuple[Any, Any]:
    from loupe.learning.text import TfidfFeaturizer  # numpy on first use

    labelled = [
        str(data.get(text_field, ""))
        for data in session.scalars(
            select(Item.data)
            .join(Consensus, Consensus.item_id == Item.id)
            .where(Item.project_id == project_id)
            .order_by(Item.id.desc())
            .limit(NOVELTY_REFERENCE)
        )
    ]
    featurizer = TfidfFeaturizer().fit([*texts, *labelled])
    reference = featurizer.transform(labelled) if labelled else featurizer.transform([""])[:0]
    return featurizer.transform(texts), reference


def ingest_predictions(
    session: Session,
    actor: Actor,
    project_id: int,
    rows: Sequence[PredictionIn],
    *,
    gate: PrivacyGate | None = None,
    now: datetime | None = None,
) -> PredictionsResult:
    """Store a batch of predictions (new ids only) and select which go to people."""
    project = authorize_project(session, actor, "items.import", project_id)
    if len(rows) > MAX_PREDICTIONS:
        raise InvalidInput(
            f"predictions: at most {MAX_PREDICTIONS} per request; send batches",
            details={"field": "predictions", "max": MAX_PREDICTIONS},
        )
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        raise InvalidInput("predictions apply to single_choice projects")
    classes = tuple(option.key for option in schema.task.labels)
    checked = _check(rows, classes)
    now = now or utcnow()
    records = [
        _record(row, label, probs, schema.text_field, index)
        for index, (row, (label, probs)) in enumerate(zip(rows, checked, strict=True))
    ]
    # The ids as the gate lets them be stored: the rows below are looked up by them.
    records = gate_ids(session, project_id, records, gate or keepless_gate())
    gated = {row.id: record.external_id for row, record in zip(rows, records, strict=True)}
    inserted = insert_items(session, actor, project_id, records, gate=gate)
    if not records:
        return PredictionsResult(0, 0, 0, 0, 0, 0, {})
    ids = list(dict.fromkeys(record.external_id for record in records))
    stored = {
        row.external_id: row
        for row in session.execute(
            select(Item.id, Item.external_id, Item.data, Item.withheld, Item.sensitivity).where(
                Item.project_id == project_id, Item.external_id.in_(ids)
            )
        )
    }
    seen = set(
        session.scalars(
            select(Prediction.item_id).where(
                Prediction.item_id.in_([row.id for row in stored.values()])
            )
        )
    )
    fresh: dict[str, int] = {}
    for index, row in enumerate(rows):
        item = stored[gated[row.id]]
        if item.id not in seen and gated[row.id] not in fresh:
            fresh[gated[row.id]] = index
    config = stored_config(session, project_id)
    selectable = [ext for ext in fresh if not stored[ext].withheld]
    chosen = _select(
        session,
        config,
        project_id,
        selectable,
        checked,
        fresh,
        stored,
        classes,
        text_field=schema.text_field,
    )
    predictions = []
    for ext, index in fresh.items():
        label, probs = checked[index]
        reason, probability = chosen.get(ext, (None, None))
        predictions.append(
            Prediction(
                item_id=stored[ext].id,
                project_id=project_id,
                label=label,
                probabilities=probs,
                confidence=max(probs.values()),
                model_version=rows[index].model_version,
                resolution="human" if reason is not None else "model",
                strategy=reason,
                inclusion_probability=probability,
                batch=config.batches,
                created_at=now,
            )
        )
    session.add_all(predictions)
    resolved = [p.item_id for p in predictions if p.resolution == "model"]
    if resolved:
        # Model-resolved items are complete: `next task` never hands them out.
        session.execute(update(Item).where(Item.id.in_(resolved)).values(is_complete=True))
    config.batches += 1
    session.flush()
    by_strategy: dict[str, int] = {}
    for reason, _ in chosen.values():
        by_strategy[reason] = by_strategy.get(reason, 0) + 1
    redacted = sum(1 for ext in fresh if stored[ext].sensitivity in ("personal", "health"))
    return PredictionsResult(
        received=len(rows),
        created=inserted.created,
        existing=inserted.existing,
        to_people=len(chosen),
        model_resolved=len(resolved),
        redacted=redacted,
        by_strategy=dict(sorted(by_strategy.items())),
    )


def _select(
    session: Session,
    config: LoopConfig,
    project_id: int,
    selectable: list[str],
    checked: list[tuple[str, dict[str, float]]],
    fresh: dict[str, int],
    stored: dict[str, Any],
    classes: tuple[str, ...],
    *,
    text_field: str,
) -> dict[str, tuple[str, float]]:
    """External id -> (strategy, inclusion probability) for the items people should see."""
    if not selectable:
        return {}
    import numpy as np  # numpy on first use

    from loupe.selection import AUDIT, Pool, select_batch

    matrix = np.array(
        [[checked[fresh[ext]][1].get(c, 0.0) for c in classes] for ext in selectable],
        dtype=np.float64,
    )
    mix = {str(k): float(v) for k, v in config.mix.items()}
    features = reference = None
    if mix.get("novelty", 0) > 0:
        texts = [str(stored[ext].data.get(text_field, "")) for ext in selectable]
        features, reference = _novelty_features(session, project_id, texts, text_field)
    budget_left = None
    if config.label_budget is not None:
        used = session.scalar(
            select(func.count())
            .select_from(Prediction)
            .where(Prediction.project_id == project_id, Prediction.resolution == "human")
        )
        budget_left = config.label_budget - int(used or 0)
    # Disagreement needs a human label; new items have none, so it scores nothing here.
    pool = Pool(
        probabilities=matrix,
        features=features,
        labelled_features=reference,
        human_labels=np.full(len(selectable), -1, dtype=np.int64),
    )
    rng = np.random.default_rng([config.seed, config.batches])
    selection = select_batch(
        pool,
        mix=mix,
        batch_size=math.ceil(config.label_share * len(selectable)),
        rng=rng,
        budget_left=budget_left,
        audit_share=config.audit_share,
    )
    out: dict[str, tuple[str, float]] = {}
    for position, reason, weight in zip(
        selection.indices.tolist(), selection.reasons, selection.audit_weights.tolist(), strict=True
    ):
        probability = 1.0 / weight if reason == AUDIT and weight > 0 else 1.0
        out[selectable[position]] = (reason, probability)
    return out


def route_to_people(
    session: Session, item_ids: Sequence[int], *, strategy: str, overlap: int
) -> list[int]:
    """Hand model-resolved ``item_ids`` to people after all, as if ``strategy`` had picked
    them: the prediction becomes ``human`` and the item open again (until ``overlap``
    labels). Withheld and gold items stay as they are. Returns the items handed over."""
    routed = list(
        session.scalars(
            select(Prediction.item_id)
            .join(Item, Item.id == Prediction.item_id)
            .where(
                Prediction.item_id.in_(list(item_ids)),
                Prediction.resolution == "model",
                Item.withheld.is_(False),
                Item.is_gold.is_(False),
            )
            .order_by(Prediction.item_id)
        )
    )
    if routed:
        session.execute(
            update(Prediction)
            .where(Prediction.item_id.in_(routed))
            .values(resolution="human", strategy=strategy, inclusion_probability=None)
        )
        session.execute(
            update(Item).where(Item.id.in_(routed)).values(is_complete=Item.label_count >= overlap)
        )
    return routed


# --- model versus people --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrategyAgreement:
    strategy: str
    n: int
    agreement: float


@dataclass(frozen=True, slots=True)
class ModelAgreement:
    """How often the model's prediction matches the people's consensus.

    ``by_strategy`` is biased by design (uncertainty picks the hard items);
    ``audit_accuracy`` is the unbiased estimate of the model's accuracy over all
    traffic, from the random audit items only.
    """

    n_predictions: int
    n_to_people: int
    n_model_resolved: int
    n_compared: int
    agreement: float | None
    by_strategy: list[StrategyAgreement]
    audit_accuracy: float | None
    audit_standard_error: float | None
    audit_n: int


def model_agreement(session: Session, actor: Actor, project_id: int) -> ModelAgreement:
    """Model-versus-human agreement on the items people have labelled."""
    from loupe.selection import AUDIT, estimate_accuracy  # numpy on first use

    authorize_project(session, actor, "labels.read", project_id)
    counts = dict(
        session.execute(
            select(Prediction.resolution, func.count())
            .where(Prediction.project_id == project_id)
            .group_by(Prediction.resolution)
        ).all()
    )
    rows = session.execute(
        select(
            Prediction.label,
            Prediction.strategy,
            Prediction.inclusion_probability,
            Consensus.answer,
        )
        .join(Consensus, Consensus.item_id == Prediction.item_id)
        .where(Prediction.project_id == project_id, Prediction.resolution == "human")
    ).all()
    per: dict[str, list[bool]] = {}
    audit_correct: list[float] = []
    audit_weights: list[float] = []
    for label, strategy, probability, answer in rows:
        right = label == answer
        per.setdefault(strategy or "unknown", []).append(right)
        if strategy == AUDIT and probability:
            audit_correct.append(float(right))
            audit_weights.append(1.0 / probability)
    accuracy = error = None
    if audit_correct:
        estimate = estimate_accuracy(audit_correct, audit_weights)
        accuracy = round(estimate.accuracy, 6)
        error = None if math.isnan(estimate.standard_error) else round(estimate.standard_error, 6)
    compared = [right for values in per.values() for right in values]
    return ModelAgreement(
        n_predictions=int(sum(counts.values())),
        n_to_people=int(counts.get("human", 0)),
        n_model_resolved=int(counts.get("model", 0)),
        n_compared=len(compared),
        agreement=round(sum(compared) / len(compared), 6) if compared else None,
        by_strategy=[
            StrategyAgreement(name, len(values), round(sum(values) / len(values), 6))
            for name, values in sorted(per.items())
        ],
        audit_accuracy=accuracy,
        audit_standard_error=error,
        audit_n=len(audit_correct),
    )


class ResolvedAnswer(NamedTuple):
    """A prediction people resolved: the item, their consensus answer, and the selection
    strategy that sent it to them."""

    external_id: str
    answer: Any
    strategy: str


def human_resolved_answers(session: Session, project_id: int) -> list[ResolvedAnswer]:
    """Every prediction people resolved that has a consensus."""
    rows = session.execute(
        select(Item.external_id, Consensus.answer, Prediction.strategy)
        .join(Consensus, Consensus.item_id == Item.id)
        .join(Prediction, Prediction.item_id == Item.id)
        .where(Prediction.project_id == project_id, Prediction.resolution == "human")
    ).all()
    return [ResolvedAnswer(*row) for row in rows]


def predicted_labels(session: Session, project_id: int) -> list[tuple[str, str]]:
    """``(external_id, label the model predicted)`` of every prediction in the project."""
    rows = session.execute(
        select(Item.external_id, Prediction.label)
        .join(Prediction, Prediction.item_id == Item.id)
        .where(Prediction.project_id == project_id)
    ).all()
    return [(external_id, label) for external_id, label in rows]
