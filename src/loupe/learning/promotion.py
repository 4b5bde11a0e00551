"""Champion / challenger: promote a retrained model only when it is measurably better.

Both models are scored on the same held-out gold set. The challenger replaces
the champion when its primary metric beats the champion's by at least
``min_improvement`` (absolute) and no guarded metric drops by more than its
allowance. Every version records its metrics and the exact ids it was trained
on, so any prediction can be traced back to its training data.

>>> from loupe.learning.evaluation import Evaluation
>>> e1 = Evaluation(100, 0.80, 0.78, 0.80, None, None, None)
>>> e2 = Evaluation(100, 0.83, 0.82, 0.83, None, None, None)
>>> gold = gold_set_fingerprint(["g1", "g2"])
>>> champ = ModelVersion(1, "tfidf-linear", ("a", "b"), e1, gold)
>>> chall = ModelVersion(2, "tfidf-linear", ("a", "b", "c"), e2, gold)
>>> decide_promotion(champ, chall, min_improvement=0.01).promote
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loupe.errors import InvalidInput
from loupe.learning.evaluation import Evaluation, MetricName

__all__ = ["ModelVersion", "PromotionDecision", "decide_promotion", "gold_set_fingerprint"]


def gold_set_fingerprint(item_ids: Iterable[str]) -> str:
    """SHA-256 over the sorted gold item ids: equal fingerprints mean the same gold set."""
    digest = hashlib.sha256()
    for item_id in sorted(item_ids):
        digest.update(item_id.encode("utf-8") + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelVersion:
    """One trained model: its number, trainer, training-set ids and gold-set metrics."""

    version: int
    trainer: str
    training_ids: tuple[str, ...]
    metrics: Evaluation
    gold_set: str
    parent: int | None = None
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to promote, the numbers behind it and a sentence a person can read."""

    promote: bool
    metric: MetricName
    champion_value: float | None
    challenger_value: float
    improvement: float | None
    reason: str


def _value(version: ModelVersion, metric: MetricName) -> float | None:
    return version.metrics.get(metric)


def decide_promotion(
    champion: ModelVersion | None,
    challenger: ModelVersion,
    *,
    metric: MetricName = "macro_f1",
    min_improvement: float = 0.005,
    guards: Mapping[MetricName, float] | None = None,
) -> PromotionDecision:
    """Compare ``challenger`` with ``champion`` (``None``: nothing deployed yet).

    ``guards`` maps other metrics to the largest drop allowed, e.g.
    ``{"oos_recall": 0.02}``.
    """
    if min_improvement < 0:
        raise InvalidInput("min_improvement must be >= 0", details={"field": "min_improvement"})
    new = _value(challenger, metric)
    if new is None:
        raise InvalidInput(
            f"the challenger has no {metric} on this gold set; choose a metric it defines",
            details={"field": "metric"},
        )
    if champion is None:
        return PromotionDecision(True, metric, None, new, None, "no champion yet")
    if champion.gold_set != challenger.gold_set:
        raise InvalidInput(
            "champion and challenger were evaluated on different gold sets; "
            "re-evaluate both on the same one",
            details={"field": "gold_set"},
        )
    old = _value(champion, metric)
    if old is None:
        return PromotionDecision(
            True, metric, None, new, None, f"the champion has no {metric}; promote"
        )
    gain = new - old
    if gain < min_improvement:
        reason = f"{metric} improved by {gain:+.4f}, less than the required {min_improvement:.4f}"
        return PromotionDecision(False, metric, old, new, gain, reason)
    for guarded, allowance in (guards or {}).items():
        before, after = _value(champion, guarded), _value(challenger, guarded)
        if before is not None and after is not None and before - after > allowance:
            reason = (
                f"{guarded} fell by {before - after:.4f}, more than the allowed {allowance:.4f}"
            )
            return PromotionDecision(False, metric, old, new, gain, reason)
    reason = f"{metric} improved by {gain:+.4f} (>= {min_improvement:.4f})"
    return PromotionDecision(True, metric, old, new, gain, reason)
