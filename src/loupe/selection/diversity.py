"""Diversity within a batch: greedy farthest-first traversal (k-centre) in feature space.

Uncertainty alone fills a batch with near-duplicates from the same confusing
region. Shortlisting the most uncertain items and then keeping a spread-out
subset of them is the "uncertain, then diverse" recipe of Citovsky et al. 2021
(*Batch Active Learning at Scale*, cluster-margin) and the core-set greedy of
Sener & Savarese 2018; distances here are cosine distances. Already labelled
rows (``reference``) count as centres from the start, so the batch also avoids
what has been labelled.

:func:`badge` (Ash et al. 2020, *Deep Batch Active Learning by Diverse,
Uncertain Gradient Lower Bounds*) instead runs k-means++ seeding on each item's
loss gradient for a linear softmax model, ``g = (p - onehot(argmax p)) ⊗ x``.
Large gradients are uncertain items; spread-out gradients are diverse ones. The
kernel factorises, ``<g_i, g_j> = <x_i, x_j> <r_i, r_j>``, so it is computed on
the shortlist without ever forming ``g``.

>>> import numpy as np
>>> x = np.array([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0]])
>>> farthest_first(x, k=2).tolist()
[0, 2]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.selection.novelty import FeatureMatrix, max_cosine_similarity, unit_rows

__all__ = ["DiversityMethod", "badge", "farthest_first"]

DiversityMethod = Literal["badge", "farthest"]


def farthest_first(
    candidates: FeatureMatrix,
    *,
    k: int,
    reference: FeatureMatrix | None = None,
) -> NDArray[np.int64]:
    """Pick ``k`` candidate rows, each the farthest (cosine) from everything picked before.

    Returns positions into ``candidates`` in the order picked. Without a
    ``reference`` the first pick is row 0 (callers pass candidates best-first).
    """
    import scipy.sparse as sp

    n = candidates.shape[0]
    if k < 0:
        raise InvalidInput("k must be >= 0", details={"field": "k"})
    k = min(k, n)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    unit = unit_rows(candidates)
    gram: Any = unit @ unit.T
    sim = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
    distance = 1.0 - sim
    if reference is not None and reference.shape[0] > 0:
        nearest = 1.0 - max_cosine_similarity(candidates, reference)
        chosen: list[int] = []
    else:
        chosen = [0]
        nearest = distance[0].copy()
    while len(chosen) < k:
        gaps = nearest.copy()
        gaps[chosen] = -np.inf
        pick = int(np.argmax(gaps))
        chosen.append(pick)
        nearest = np.minimum(nearest, distance[pick])
    return np.asarray(chosen, dtype=np.int64)


def badge(
    candidates: FeatureMatrix,
    probabilities: NDArray[np.float64],
    *,
    k: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Pick ``k`` rows by k-means++ seeding on gradient embeddings (BADGE).

    ``probabilities`` are the model's class probabilities for the same rows.
    Returns positions into ``candidates`` in the order picked.
    """
    import scipy.sparse as sp

    n = candidates.shape[0]
    if k < 0:
        raise InvalidInput("k must be >= 0", details={"field": "k"})
    if probabilities.shape[0] != n:
        raise InvalidInput("probabilities need one row per candidate", details={"field": "k"})
    k = min(k, n)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    unit = unit_rows(candidates)
    gram: Any = unit @ unit.T
    x_kernel = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
    residual = np.array(probabilities, dtype=np.float64)
    residual[np.arange(n), residual.argmax(axis=1)] -= 1.0
    kernel = x_kernel * (residual @ residual.T)
    norms = np.diag(kernel).copy()
    first = int(np.argmax(norms))
    chosen = [first]
    nearest = np.maximum(norms + norms[first] - 2.0 * kernel[first], 0.0)
    while len(chosen) < k:
        weights = nearest.copy()
        weights[chosen] = 0.0
        total = weights.sum()
        if total <= 0:
            rest = np.setdiff1d(np.arange(n), chosen)
            pick = int(rest[0])
        else:
            pick = int(rng.choice(n, p=weights / total))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.maximum(norms + norms[pick] - 2.0 * kernel[pick], 0.0))
    return np.asarray(chosen, dtype=np.int64)
