"""Evaluation of a model on a labelled (gold) set, out-of-scope included.

Predictions are the most probable class, except that an item whose best
probability is below ``threshold`` is predicted ``oos_label`` (out of scope).
Metrics follow Larson et al. 2019 (*An Evaluation Dataset for Intent
Classification and Out-of-Scope Prediction*): in-scope accuracy over gold
in-scope items, and out-of-scope recall and precision.

>>> import numpy as np
>>> e = evaluate(["a", "b", "oos"], np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45]]),
...              ("a", "b"), threshold=0.6)
>>> e.accuracy, e.in_scope_accuracy, e.oos_recall, e.oos_precision
(1.0, 1.0, 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from loupe.errors import InvalidInput

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["Evaluation", "MetricName", "evaluate", "evaluate_labels", "predict_with_threshold"]

MetricName = Literal[
    "accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "oos_f1"
]


@dataclass(frozen=True)
class Evaluation:
    """Metrics on one gold set; ``None`` where a metric is undefined (e.g. no oos items).

    ``oos_rule`` says which out-of-scope rule labelled the predictions, e.g.
    ``"project threshold 0.3 (max probability)"``, ``"model: -max logit > -1.25"`` or
    ``"none"`` (:func:`loupe.learning.scope.describe_rule`); ``None`` where it was not
    recorded (metrics stored before it was).
    """

    n: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    oos_precision: float | None
    threshold: float | None
    oos_rule: str | None = None

    @property
    def oos_f1(self) -> float | None:
        """Harmonic mean of out-of-scope recall and precision: unlike recall alone, it
        does not reward a rule that calls every text out of scope. ``None`` without
        out-of-scope gold items; 0 when none was found (precision is then undefined)."""
        if self.oos_recall is None:
            return None
        precision = self.oos_precision or 0.0
        total = self.oos_recall + precision
        return 0.0 if total == 0 else 2 * self.oos_recall * precision / total

    def get(self, metric: MetricName) -> float | None:
        """The value of ``metric`` by name."""
        value: float | None = getattr(self, metric)
        return value

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Plain values, for JSON."""
        return asdict(self)


def predict_with_threshold(
    probabilities: ArrayLike,
    classes: Sequence[str],
    *,
    threshold: float | None = None,
    oos_label: str = "oos",
) -> list[str]:
    """Most probable class per row, or ``oos_label`` where its probability < ``threshold``."""
    from loupe.selection.uncertainty import as_probabilities  # numpy on first use

    p = as_probabilities(probabilities)
    if p.shape[1] != len(classes):
        raise InvalidInput(
            f"probabilities have {p.shape[1]} columns but {len(classes)} classes were given",
            details={"field": "classes"},
        )
    best = p.argmax(axis=1)
    out = [classes[i] for i in best]
    if threshold is not None:
        low = p.max(axis=1) < threshold
        out = [oos_label if flag else label for label, flag in zip(out, low, strict=True)]
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate(
    gold: Sequence[str],
    probabilities: ArrayLike,
    classes: Sequence[str],
    *,
    threshold: float | None = None,
    oos_label: str = "oos",
) -> Evaluation:
    """Score ``probabilities`` (columns ordered as ``classes``) against ``gold`` labels."""
    predicted = predict_with_threshold(
        probabilities, classes, threshold=threshold, oos_label=oos_label
    )
    return evaluate_labels(gold, predicted, threshold=threshold, oos_label=oos_label)


def evaluate_labels(
    gold: Sequence[str],
    predicted: Sequence[str],
    *,
    threshold: float | None = None,
    oos_label: str = "oos",
    oos_rule: str | None = None,
) -> Evaluation:
    """Score ``predicted`` labels (out-of-scope decided already) against ``gold`` labels.

    ``threshold`` and ``oos_rule`` are only recorded: the probability threshold the
    labels were cut at, and the out-of-scope rule that labelled them.
    """
    if len(predicted) != len(gold):
        raise InvalidInput(
            f"{len(gold)} gold labels for {len(predicted)} rows of probabilities",
            details={"field": "gold"},
        )
    if not gold:
        raise InvalidInput("the gold set is empty; add labelled items to evaluate on")
    import numpy as np  # numpy on first use: the metrics records need none

    g = np.asarray(gold, dtype=str)
    pr = np.asarray(list(predicted), dtype=str)
    correct = g == pr
    is_oos = g == oos_label
    said_oos = pr == oos_label
    labels = sorted(set(g.tolist()) | set(pr.tolist()))
    from sklearn.metrics import f1_score  # on first use: a slow import (see text.py)

    macro = float(f1_score(g, pr, labels=labels, average="macro", zero_division=0))
    return Evaluation(
        n=int(g.size),
        accuracy=float(correct.mean()),
        macro_f1=macro,
        in_scope_accuracy=_ratio(int(correct[~is_oos].sum()), int((~is_oos).sum())),
        oos_recall=_ratio(int((said_oos & is_oos).sum()), int(is_oos.sum())),
        oos_precision=_ratio(int((said_oos & is_oos).sum()), int(said_oos.sum())),
        threshold=threshold,
        oos_rule=oos_rule,
    )
