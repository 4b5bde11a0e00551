"""Random audit sampling: an unbiased estimate of model accuracy.

Items chosen by uncertainty are, by design, the ones the model gets wrong most
often, so accuracy measured on them is biased low. A small **audit share** of
every batch is therefore drawn uniformly at random from the eligible pool,
independently of the model, and each audit item records its inclusion
probability ``pi`` and weight ``1 / pi``. The Hájek (ratio) estimator

    acc = sum_i w_i c_i / sum_i w_i,        c_i = 1 if the model was right

is then consistent for accuracy over the pool, even when the pool and the audit
rate change from batch to batch (Horvitz & Thompson 1952; Särndal et al. 1992,
*Model Assisted Survey Sampling*, ch. 5.7).

>>> import numpy as np
>>> a = draw_audit(10, size=2, rng=np.random.default_rng(0))
>>> a.indices.size, float(a.weights[0])
(2, 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput

__all__ = ["AccuracyEstimate", "AuditDraw", "draw_audit", "estimate_accuracy"]

Floats = NDArray[np.float64]
Indices = NDArray[np.int64]


@dataclass(frozen=True)
class AuditDraw:
    """A simple random sample without replacement from ``n_eligible`` items.

    ``indices`` are positions among the eligible items; every item had the same
    ``inclusion_probability`` (``size / n_eligible``); ``weights`` is its inverse,
    one per drawn item, to be stored next to the human label.
    """

    indices: Indices
    inclusion_probability: float
    weights: Floats


@dataclass(frozen=True)
class AccuracyEstimate:
    """Weighted accuracy with a linearised standard error (``nan`` when ``n < 2``)."""

    accuracy: float
    standard_error: float
    n: int


def draw_audit(n_eligible: int, *, size: int, rng: np.random.Generator) -> AuditDraw:
    """Draw ``size`` of ``n_eligible`` items uniformly at random, recording their weights."""
    if n_eligible < 0 or size < 0:
        raise InvalidInput("n_eligible and size must be non-negative", details={"field": "size"})
    if size > n_eligible:
        raise InvalidInput(
            f"cannot audit {size} items out of {n_eligible} eligible; lower the audit share",
            details={"field": "size"},
        )
    if size == 0:
        return AuditDraw(np.zeros(0, dtype=np.int64), 0.0, np.zeros(0, dtype=np.float64))
    chosen = np.sort(rng.choice(n_eligible, size=size, replace=False)).astype(np.int64)
    pi = size / n_eligible
    return AuditDraw(chosen, pi, np.full(size, 1.0 / pi, dtype=np.float64))


def estimate_accuracy(correct: ArrayLike, weights: ArrayLike) -> AccuracyEstimate:
    """Hájek estimate of accuracy from audit outcomes and their inverse-probability weights."""
    c = np.asarray(correct, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if c.shape != w.shape or c.ndim != 1:
        raise InvalidInput(
            "correct and weights must be 1-D arrays of the same length",
            details={"field": "weights"},
        )
    if c.size == 0:
        raise InvalidInput("no audit outcomes yet: label some audit items first")
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise InvalidInput("weights must be positive and finite (1 / inclusion probability)")
    total = w.sum()
    acc = float((w * c).sum() / total)
    n = int(c.size)
    if n < 2:
        return AccuracyEstimate(acc, float("nan"), n)
    # Linearised variance of a ratio estimator under with-replacement approximation.
    resid = w * (c - acc) / total
    se = float(np.sqrt(n / (n - 1) * np.sum(resid**2)))
    return AccuracyEstimate(acc, se, n)
