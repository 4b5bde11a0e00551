"""Information density: how typical of the pool an item is.

Uncertainty sampling alone favours outliers: an odd, one-off utterance is
uncertain, but labelling it teaches the model little about the many items it
resembles nothing of. Settles & Craven 2008 (*An Analysis of Active Learning
Strategies for Sequence Labeling Tasks*) weigh each item's uncertainty by its
*information density*, its mean similarity to the rest of the pool::

    score(x) = uncertainty(x) * density(x) ** beta

Here density is the mean cosine similarity to the item's ``k`` nearest
neighbours in the pool (not to the whole pool: with many small classes, the
whole-pool mean says little about a class of 100 among 15,000). It is computed
once per pool, in blocks, so memory stays at ``block x n`` similarities.

>>> import numpy as np
>>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.95, 0.05], [0.0, 1.0]])
>>> knn_density(x, k=1).round(3).tolist()
[0.999, 0.998, 0.999, 0.11]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.selection.novelty import FeatureMatrix, unit_rows

__all__ = ["knn_density"]


def knn_density(features: FeatureMatrix, *, k: int = 10, block: int = 1000) -> NDArray[np.float64]:
    """Mean cosine similarity of each row to its ``k`` nearest other rows.

    ``features``: one row per pool item (dense or sparse). An item is not its own
    neighbour; with fewer than ``k + 1`` rows every other row is a neighbour.
    """
    import scipy.sparse as sp

    if k < 1:
        raise InvalidInput("k must be >= 1", details={"field": "k"})
    if block < 1:
        raise InvalidInput("block must be >= 1", details={"field": "block"})
    n = features.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.float64)
    unit = unit_rows(features)
    k = min(k, n - 1)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims: Any = unit[start:stop] @ unit.T
        dense = np.asarray(sims.toarray() if sp.issparse(sims) else sims, dtype=np.float64)
        dense[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        nearest = np.partition(dense, n - k, axis=1)[:, n - k :]
        out[start:stop] = nearest.mean(axis=1)
    return out
