"""Relative Mahalanobis distance: an out-of-scope score from embedding geometry.

Each known class is a Gaussian with its own mean and one covariance shared by
all classes; the whole labelled set is one more, "background" Gaussian. An item's
score is its squared Mahalanobis distance to the nearest class mean minus its
distance to the background (Ren et al. 2021, *A Simple Fix to Mahalanobis
Distance for Improving Near-OOD Detection*, arXiv:2106.09022):

    score(x) = min_k (x - mu_k)' S^-1 (x - mu_k) - (x - mu_0)' S_0^-1 (x - mu_0)

Both covariances are Ledoit-Wolf shrunk, so 384-dimensional sentence vectors with a
few rows per class still give an invertible matrix. Subtracting the background
removes the part of the distance every sentence has (length, style), which the
plain distance mistakes for novelty. Higher = more likely out of scope.

On CLINC150's MiniLM vectors it ranks out-of-scope utterances better than the
mean cosine to the 10 nearest labelled ones (test AUROC 0.972 against 0.963;
``docs/benchmarks-selection.md``).

>>> import numpy as np
>>> x = np.array([[-1.0], [1.0], [9.0], [11.0]])
>>> rm = RelativeMahalanobis().fit(x, ["a", "a", "b", "b"])
>>> rm.score(np.array([[0.0], [5.0]])).round(4).tolist()
[-0.9615, 25.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loupe.errors import InvalidInput

__all__ = ["RelativeMahalanobis"]

Floats = NDArray[np.float64]


class RelativeMahalanobis:
    """Out-of-scope score from class means, a shared covariance and a background Gaussian.

    ``fit(vectors, labels)`` learns ``classes_``, ``means_`` (one row per class),
    ``whiten_`` (``S^-1/2``: Mahalanobis distance becomes Euclidean after it),
    ``centre_`` and ``background_whiten_`` (the same for the background); ``score``
    returns the relative distance per row (see the module docstring).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(5, 1, (20, 3))])
    >>> rm = RelativeMahalanobis().fit(x, ["a"] * 20 + ["b"] * 20)
    >>> bool(rm.score(np.array([[20.0, -20.0, 0.0]]))[0] > rm.score(x).max())
    True
    """

    classes_: tuple[str, ...]
    means_: Floats
    whiten_: Floats
    centre_: Floats
    background_whiten_: Floats

    def fit(self, vectors: ArrayLike, labels: Sequence[str]) -> RelativeMahalanobis:
        """Learn the class means and both shrunk covariances from labelled rows."""
        from sklearn.covariance import LedoitWolf  # on first use: the server start stays light

        x = np.asarray(vectors, dtype=np.float64)
        y = np.asarray(labels, dtype=str)
        if x.ndim != 2 or x.shape[0] != y.size:
            raise InvalidInput(
                "vectors must be a 2-D matrix with one row per label", details={"field": "labels"}
            )
        if x.shape[0] < 2 or not np.isfinite(x).all():
            raise InvalidInput(
                "fitting needs at least 2 rows of finite values", details={"field": "vectors"}
            )
        classes, index = np.unique(y, return_inverse=True)
        means = np.vstack([x[index == k].mean(axis=0) for k in range(classes.size)])
        self.classes_ = tuple(str(c) for c in classes)
        self.means_ = means
        self.whiten_ = _inverse_root(LedoitWolf().fit(x - means[index]).covariance_)
        self.centre_ = x.mean(axis=0)
        self.background_whiten_ = _inverse_root(LedoitWolf().fit(x).covariance_)
        return self

    def score(self, vectors: ArrayLike) -> Floats:
        """Relative squared Mahalanobis distance per row; higher = more likely out of scope."""
        if not hasattr(self, "means_"):
            raise InvalidInput("call fit before score", details={"field": "vectors"})
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.means_.shape[1]:
            raise InvalidInput(
                f"vectors must have {self.means_.shape[1]} columns", details={"field": "vectors"}
            )
        background = np.sum(((x - self.centre_) @ self.background_whiten_) ** 2, axis=1)
        nearest = _nearest_squared(x @ self.whiten_, self.means_ @ self.whiten_)
        return np.asarray(nearest - background, dtype=np.float64)


def _inverse_root(covariance: Floats) -> Floats:
    """``W`` with ``W W' = covariance^-1`` (eigenvalues floored so that W stays finite)."""
    values, vectors = np.linalg.eigh(covariance)
    floor = max(float(values.max()), 1e-300) * 1e-12
    return np.asarray(vectors / np.sqrt(np.maximum(values, floor)), dtype=np.float64)


def _nearest_squared(rows: Floats, centres: Floats) -> Floats:
    """Squared Euclidean distance from each row to its nearest centre, in chunks."""
    out = np.empty(rows.shape[0], dtype=np.float64)
    norms = np.sum(centres**2, axis=1)
    for start in range(0, rows.shape[0], 2048):
        block = rows[start : start + 2048]
        d = np.sum(block**2, axis=1)[:, None] - 2 * block @ centres.T + norms[None, :]
        out[start : start + 2048] = np.maximum(d, 0.0).min(axis=1)
    return out
