"""Uncertainty scores over class probabilities.

Every function takes a ``(n_items, n_classes)`` array of class probabilities
(rows sum to 1) and returns one float per item. Scores follow one convention
across :mod:`loupe.selection`: **higher means "ask a person first"**. The raw
:func:`margin` is the exception by name (it is the gap itself, small is
uncertain); :func:`margin_score` turns it into a score.

>>> import numpy as np
>>> p = np.array([[0.5, 0.4, 0.1]])
>>> float(margin(p)[0].round(6)), float(least_confidence(p)[0])
(0.1, 0.5)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput

__all__ = [
    "as_probabilities",
    "entropy",
    "least_confidence",
    "margin",
    "margin_score",
    "normalized_entropy",
]

Floats = NDArray[np.float64]

_TOLERANCE = 1e-6


def as_probabilities(probabilities: ArrayLike) -> Floats:
    """Check and return ``probabilities`` as a 2-D float array whose rows sum to 1.

    Raises :class:`~loupe.errors.InvalidInput` naming what is wrong.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise InvalidInput(
            f"probabilities must be a 2-D array (items x classes); got {p.ndim} dimension(s)",
            details={"field": "probabilities", "shape": list(p.shape)},
        )
    if p.shape[1] < 2:
        raise InvalidInput(
            "probabilities need at least 2 classes (columns)",
            details={"field": "probabilities", "shape": list(p.shape)},
        )
    if p.size and (not np.all(np.isfinite(p)) or p.min() < -_TOLERANCE):
        raise InvalidInput(
            "probabilities must be finite and non-negative",
            details={"field": "probabilities"},
        )
    if p.size and np.max(np.abs(p.sum(axis=1) - 1.0)) > 1e-3:
        raise InvalidInput(
            "each row of probabilities must sum to 1 (apply a softmax first)",
            details={"field": "probabilities"},
        )
    return p


def _top_two(p: Floats) -> tuple[Floats, Floats]:
    top = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return top[:, 1], top[:, 0]


def least_confidence(probabilities: ArrayLike) -> Floats:
    """``1 - max_k p_k``: how little the model trusts its best guess."""
    p = as_probabilities(probabilities)
    return np.asarray(1.0 - p.max(axis=1), dtype=np.float64)


def margin(probabilities: ArrayLike) -> Floats:
    """Gap between the two most probable classes, ``p_(1) - p_(2)`` (small is uncertain)."""
    p = as_probabilities(probabilities)
    first, second = _top_two(p)
    return first - second


def margin_score(probabilities: ArrayLike) -> Floats:
    """``1 - margin``: the margin as a selection score (higher is more uncertain)."""
    return 1.0 - margin(probabilities)


def entropy(probabilities: ArrayLike) -> Floats:
    """Shannon entropy in nats, ``-sum_k p_k log p_k`` (0 log 0 taken as 0)."""
    p = as_probabilities(probabilities)
    logs = np.log(np.where(p > 0.0, p, 1.0))
    return np.asarray(-(p * logs).sum(axis=1), dtype=np.float64)


def normalized_entropy(probabilities: ArrayLike) -> Floats:
    """Entropy divided by ``log(n_classes)``, so it lies in ``[0, 1]``."""
    p = as_probabilities(probabilities)
    return np.asarray(entropy(p) / np.log(p.shape[1]), dtype=np.float64)
