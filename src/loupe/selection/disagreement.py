"""Model-versus-human disagreement.

When a person (or an aggregate of several) has already labelled an item, the
model's probability for that label says how much the two disagree. High scores
mark items worth a second look: a label error, an ambiguous guideline, or a
blind spot of the model.

>>> import numpy as np
>>> p = np.array([[0.9, 0.1], [0.2, 0.8]])
>>> model_human_disagreement(p, np.array([0, 0])).round(6).tolist()
[0.1, 0.8]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput
from loupe.selection.uncertainty import as_probabilities

__all__ = ["label_disagrees", "model_human_disagreement"]

Floats = NDArray[np.float64]


def _label_indices(human_labels: ArrayLike, n_items: int, n_classes: int) -> NDArray[np.int64]:
    y = np.asarray(human_labels)
    if y.shape != (n_items,):
        raise InvalidInput(
            f"human_labels must hold one class index per item ({n_items}); got shape {y.shape}",
            details={"field": "human_labels"},
        )
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise InvalidInput(
            f"human_labels must be integer class indices in [0, {n_classes}); "
            "map label names to the model's classes_ first",
            details={"field": "human_labels"},
        )
    return y.astype(np.int64)


def model_human_disagreement(probabilities: ArrayLike, human_labels: ArrayLike) -> Floats:
    """``1 - p(human label)``: 0 when the model is sure the person is right, 1 when sure not."""
    p = as_probabilities(probabilities)
    y = _label_indices(human_labels, p.shape[0], p.shape[1])
    return 1.0 - p[np.arange(p.shape[0]), y]


def label_disagrees(probabilities: ArrayLike, human_labels: ArrayLike) -> NDArray[np.bool_]:
    """True where the model's most probable class is not the human label."""
    p = as_probabilities(probabilities)
    y = _label_indices(human_labels, p.shape[0], p.shape[1])
    return np.asarray(p.argmax(axis=1) != y, dtype=np.bool_)
