"""Temperature scaling: one number that makes a classifier's probabilities honest.

Guo et al. 2017 (*On Calibration of Modern Neural Networks*): keep the model's
scores ``z`` and choose the single factor ``t`` for which ``softmax(t * z)``
minimises the log-loss on labelled items the model was **not** fitted on. The
ranking of classes never changes, only how sure the probabilities are. The
factor multiplies the scores, as in :func:`loupe.learning.text.softmax`
(``t`` > 1 sharpens, ``t`` < 1 flattens; Guo's temperature is ``1 / t``).

>>> import numpy as np
>>> scores = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]])
>>> round(fit_temperature(scores, [0, 1, 1, 0]), 3)  # half wrong: flatten to 50/50
0.01
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput

__all__ = ["fit_temperature", "log_loss_at"]


def log_loss_at(scores: ArrayLike, targets: Sequence[int] | NDArray[np.int64], t: float) -> float:
    """Mean negative log-likelihood of ``targets`` under ``softmax(t * scores)``."""
    z = np.asarray(scores, dtype=np.float64) * t
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    y = np.asarray(targets, dtype=np.int64)
    return float(np.mean(log_norm - z[np.arange(y.size), y]))


def fit_temperature(
    scores: ArrayLike,
    targets: Sequence[int] | NDArray[np.int64],
    *,
    bounds: tuple[float, float] = (0.01, 100.0),
) -> float:
    """The factor ``t`` in ``bounds`` minimising held-out log-loss of ``softmax(t * scores)``.

    ``scores`` is ``(n, k)`` (decision values or log-probabilities), ``targets`` the
    ``n`` true column indices. The loss is convex in ``t``, so a bounded scalar
    search on ``log t`` finds the optimum.
    """
    z = np.asarray(scores, dtype=np.float64)
    y = np.asarray(targets, dtype=np.int64)
    if z.ndim != 2 or z.shape[0] != y.size or y.size == 0:
        raise InvalidInput(
            f"temperature scaling needs (n, k) scores and n targets; got {z.shape} and {y.size}",
            details={"field": "scores"},
        )
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise InvalidInput("every target must be a column index of scores")
    low, high = bounds
    if not 0 < low < high:
        raise InvalidInput("temperature bounds must satisfy 0 < low < high")
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: log_loss_at(z, y, float(np.exp(log_t))),
        bounds=(np.log(low), np.log(high)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))
