"""Out-of-scope and novelty scores.

Two independent signals that an item is something the model has not learned:

* **low confidence** — the classifier's best class probability is small
  (:func:`out_of_scope_score`, thresholded by :func:`is_out_of_scope`);
* **distance from the labelled data** — in a feature space (TF-IDF rows,
  sentence embeddings), the item is far from every labelled item
  (:func:`novelty_score` = ``1 - max cosine similarity``).

>>> import numpy as np
>>> novelty_score(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0]])).round(6).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput
from loupe.selection.uncertainty import as_probabilities

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "FeatureMatrix",
    "accuracy_budget_threshold",
    "is_out_of_scope",
    "max_cosine_similarity",
    "novelty_score",
    "out_of_scope_score",
]

Floats = NDArray[np.float64]
FeatureMatrix: TypeAlias = Any
"""A dense ``numpy`` array or a SciPy sparse matrix, one row per item.

(``Any`` for the type checker: SciPy ships no type information.)"""

_CHUNK = 2048

EXACT_PAIRS_UP_TO = 10_000_000
"""Above this many (item, labelled row) pairs, max similarities are approximate.

Exact sparse products cost about 0.6 CPU-seconds per 10 million TF-IDF pairs."""


def out_of_scope_score(probabilities: ArrayLike) -> Floats:
    """``1 - max_k p_k``; high when no known class fits the item."""
    p = as_probabilities(probabilities)
    return np.asarray(1.0 - p.max(axis=1), dtype=np.float64)


def is_out_of_scope(probabilities: ArrayLike, *, threshold: float) -> NDArray[np.bool_]:
    """True where the best class probability is below ``threshold`` (in ``(0, 1]``)."""
    if not 0.0 < threshold <= 1.0:
        raise InvalidInput(
            f"threshold must be in (0, 1]; got {threshold}", details={"field": "threshold"}
        )
    p = as_probabilities(probabilities)
    return np.asarray(p.max(axis=1) < threshold, dtype=np.bool_)


def accuracy_budget_threshold(scores: ArrayLike, correct: ArrayLike, *, budget: float) -> float:
    """The lowest threshold on ``scores`` that costs at most ``budget`` of accuracy.

    ``scores`` (higher = more likely out of scope) and ``correct`` (the classifier
    got the row right) are for held-out **in-scope** rows; a row is flagged when its
    score is strictly above the threshold, and each flagged correct row costs
    ``1 / len(correct)`` of in-scope accuracy. The rule reads no out-of-scope rows,
    so it does not depend on how much out-of-scope traffic there is (a best-F1
    threshold on a split with 3% out-of-scope is far too cautious for traffic with 18%).

    >>> accuracy_budget_threshold([0.9, 0.8, 0.7, 0.1], [True, True, False, True], budget=0.25)
    0.8
    """
    s = np.asarray(scores, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.bool_)
    if s.ndim != 1 or ok.shape != s.shape or s.size == 0:
        raise InvalidInput(
            "scores and correct must be 1-D, non-empty and of the same length",
            details={"field": "correct"},
        )
    if not 0.0 <= budget < 1.0:
        raise InvalidInput(f"budget must be in [0, 1); got {budget}", details={"field": "budget"})
    allowed = int(np.floor(budget * s.size + 1e-9))
    ranked = np.sort(s[ok])[::-1]
    if allowed < ranked.size:
        return float(ranked[allowed])
    # Every correct row may be flagged: flag everything.
    return float(np.nextafter(s.min(), -np.inf))


def unit_rows(matrix: FeatureMatrix, name: str = "features") -> sp.csr_matrix | Floats:
    """Each row scaled to unit length (zero rows stay zero); sparse stays sparse."""
    import scipy.sparse as sp

    # Rows are first divided by their largest magnitude: squaring tiny values (1e-160)
    # underflows, and a norm computed from subnormals gives "unit" rows longer than 1.
    if sp.issparse(matrix):
        # Each stored value divided by its row's figure, as the dense path does: a
        # multiplication by 1 / peak would overflow for a subnormal peak (1 / 5e-324).
        m = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        peak = np.asarray(abs(m).max(axis=1).todense()).ravel()
        _divide_rows(m, peak)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        _divide_rows(m, norms)
        return m
    d = np.asarray(matrix, dtype=np.float64)
    if d.ndim != 2:
        raise InvalidInput(
            f"{name} must be a 2-D matrix (items x features)", details={"field": name}
        )
    peak = np.max(np.abs(d), axis=1, keepdims=True) if d.shape[1] else np.zeros((len(d), 1))
    d = np.divide(d, peak, out=np.zeros_like(d), where=peak > 0)
    norms = np.linalg.norm(d, axis=1, keepdims=True)
    return np.divide(d, norms, out=np.zeros_like(d), where=norms > 0)


def _divide_rows(m: Any, by: Floats) -> None:
    """Divide a CSR matrix's stored values, in place, by a figure per row (0 stays 0)."""
    per_value = np.repeat(by, np.diff(m.indptr))
    np.divide(m.data, per_value, out=m.data, where=per_value > 0)
    m.data[per_value <= 0] = 0.0


def max_cosine_similarity(
    features: FeatureMatrix,
    reference: FeatureMatrix,
    *,
    exact_pairs_up_to: int = EXACT_PAIRS_UP_TO,
    dims: int = 128,
    probes: int = 4,
    rescore: int = 1000,
    seed: int = 0,
) -> Floats:
    """For each row of ``features``, its highest cosine similarity to any row of ``reference``.

    Works on dense arrays and SciPy sparse matrices; computed in chunks so that
    memory stays ``O(chunk x len(reference))``. An empty ``reference`` gives 0.
    Above ``exact_pairs_up_to`` (rows x reference rows) both sides are projected
    to ``dims`` dimensions with the same seeded Gaussian matrix and the nearest
    reference row is searched in an inverted file over ``probes`` lists
    (:mod:`loupe.selection.neighbours`), deterministic given ``seed``; the
    ``rescore`` rows that this finds least similar (the ones novelty selects)
    then get their exact similarity.
    """
    import scipy.sparse as sp

    for name, matrix in (("features", features), ("reference", reference)):
        if not sp.issparse(matrix) and np.ndim(matrix) != 2:
            raise InvalidInput(
                f"{name} must be a 2-D matrix (items x features)", details={"field": name}
            )
    if features.shape[1] != reference.shape[1]:
        raise InvalidInput(
            f"features have {features.shape[1]} columns but reference has {reference.shape[1]}",
            details={"field": "reference"},
        )
    n = features.shape[0]
    if reference.shape[0] == 0 or n == 0:
        return np.zeros(n, dtype=np.float64)
    if n * reference.shape[0] > exact_pairs_up_to:
        rough = _approximate_max(features, reference, dims=dims, probes=probes, seed=seed)
        if rescore > 0:
            # Projection noise (~0.1) matters most in the tail that novelty picks from.
            tail = np.argsort(rough, kind="stable")[: min(rescore, n)]
            rows = sp.csr_matrix(features)[tail] if sp.issparse(features) else features[tail]
            rough[tail] = _exact_max(rows, reference)
        return rough
    return _exact_max(features, reference)


def _exact_max(features: FeatureMatrix, reference: FeatureMatrix) -> Floats:
    import scipy.sparse as sp

    n = features.shape[0]
    a = unit_rows(features, "features")
    b = unit_rows(reference, "reference")
    out = np.zeros(n, dtype=np.float64)
    bt = b.T
    for start in range(0, n, _CHUNK):
        block: Any = a[start : start + _CHUNK] @ bt
        dense = block.toarray() if sp.issparse(block) else np.asarray(block)
        out[start : start + _CHUNK] = dense.max(axis=1)
    return np.clip(out, -1.0, 1.0)


def _approximate_max(
    features: FeatureMatrix, reference: FeatureMatrix, *, dims: int, probes: int, seed: int
) -> Floats:
    from loupe.selection.neighbours import fit_projection, ivf_top_k, project_rows

    basis = fit_projection(features, dims=dims, seed=seed)
    a = project_rows(features, basis)
    b = project_rows(reference, basis)
    best = ivf_top_k(a, b, k=1, probes=probes, seed=seed)[:, 0]
    # No reference row in the probed lists: as dissimilar as an empty reference.
    return np.clip(np.where(np.isfinite(best), best, 0.0), -1.0, 1.0)


def novelty_score(features: FeatureMatrix, labelled: FeatureMatrix, *, seed: int = 0) -> Floats:
    """``1 - max cosine similarity`` to the labelled set: 0 for a duplicate, 1 for unrelated.

    Large pools are scored approximately (:func:`max_cosine_similarity`).
    """
    return 1.0 - max_cosine_similarity(features, labelled, seed=seed)
