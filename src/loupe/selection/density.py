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

Exact k-NN costs ``n**2`` similarities (46 CPU-seconds at 20,000 TF-IDF rows,
about 20 minutes at 100,000). Pools larger than ``exact_up_to`` rows (20,000 by
default, so the 15,000-item pools of the label-efficiency benchmarks are scored exactly
and their figures reproduce) are therefore scored approximately (:mod:`loupe.selection.neighbours`):
rows are projected to ``dims`` dimensions by a seeded Gaussian matrix and the
``k`` neighbours are searched in an inverted file of ``sqrt(n)`` lists,
``probes`` of them per row: 0.4 CPU-seconds instead of 32 at 20,000 TF-IDF
rows. The approximate densities have a Spearman rank correlation of 0.84 with
the exact ones on CLINC150 (15,000 TF-IDF rows) and 0.93 on xSID (8,549); see
``docs/benchmarks-selection.md`` for what that does to label efficiency. The
same ``seed`` gives the same densities.

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

__all__ = ["EXACT_UP_TO", "knn_density"]

EXACT_UP_TO = 20_000
"""Pools up to this many rows get exact densities (about a CPU-second for TF-IDF rows)."""


def knn_density(
    features: FeatureMatrix,
    *,
    k: int = 10,
    block: int = 1000,
    exact_up_to: int = EXACT_UP_TO,
    dims: int = 128,
    probes: int = 3,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Mean cosine similarity of each row to its ``k`` nearest other rows.

    ``features``: one row per pool item (dense or sparse). An item is not its own
    neighbour; with fewer than ``k + 1`` rows every other row is a neighbour.
    Pools of more than ``exact_up_to`` rows are scored approximately (random
    projection to ``dims`` dimensions, inverted-file search over ``probes``
    lists, all drawn from ``seed``); see the module docstring.
    """
    import scipy.sparse as sp

    if k < 1:
        raise InvalidInput("k must be >= 1", details={"field": "k"})
    if block < 1:
        raise InvalidInput("block must be >= 1", details={"field": "block"})
    if dims < 1 or probes < 1:
        raise InvalidInput("dims and probes must be >= 1", details={"field": "dims"})
    n = features.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.float64)
    if n > exact_up_to:
        return _approximate(features, k=min(k, n - 1), dims=dims, probes=probes, seed=seed)
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


def _approximate(
    features: FeatureMatrix, *, k: int, dims: int, probes: int, seed: int
) -> NDArray[np.float64]:
    from loupe.selection.neighbours import fit_projection, ivf_top_k, project_rows

    z = project_rows(features, fit_projection(features, dims=dims, seed=seed))
    top = ivf_top_k(z, z, k=k, exclude_self=True, probes=probes, seed=seed)
    found = np.isfinite(top)
    # A row whose lists held fewer than k others averages over those it has.
    total = np.where(found, top, 0.0).sum(axis=1)
    count = found.sum(axis=1)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.asarray(np.clip(mean, -1.0, 1.0), dtype=np.float64)
