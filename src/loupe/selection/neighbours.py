"""Approximate cosine nearest neighbours for large pools: project, then search an inverted file.

Exact k-NN over a pool of ``n`` items costs ``n**2`` similarities: 46 CPU-seconds
at 20,000 TF-IDF rows and about 20 minutes at 100,000. Above a size threshold,
:func:`~loupe.selection.knn_density` and :func:`~loupe.selection.max_cosine_similarity`
use two approximations instead, both deterministic given a seed:

1. **A projection** of every row to ``dims`` dimensions (128 by default), then
   unit length: a seeded Gaussian random projection (Johnson-Lindenstrauss,
   :func:`fit_projection`), which preserves cosines up to noise of about
   ``(1 - cos**2) / sqrt(dims)`` and keeps sparse TF-IDF rows sparse until the
   product. A truncated SVD kept TF-IDF's nearest neighbours far worse (exact
   k-NN density in the reduced space against the original: Spearman 0.53
   against 0.95 on CLINC150).
2. **An inverted file** (IVF; Jégou et al. 2011, as in FAISS's ``IndexIVFFlat``)
   over the projected rows: ``sqrt(n)`` centres refined by two Lloyd steps on a
   sample, every base row filed under its ``probes`` nearest centres, and every
   query compared, exactly and in blocks, with the rows filed under its nearest
   centre only. Cost ``~ n * probes * sqrt(n) * dims`` instead of ``n**2 * features``.

>>> import numpy as np
>>> x = np.repeat(np.eye(3), 50, axis=0) + 0.01
>>> z = project_rows(x, fit_projection(x, dims=2, seed=0))
>>> sims = ivf_top_k(z, z, k=3, exclude_self=True, seed=0)
>>> bool(sims.min() > 0.99)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput

__all__ = ["fit_projection", "ivf_top_k", "project_rows"]

Floats32 = NDArray[np.float32]

_BLOCK = 4096
_TINY = 1e-30


def _row_peaks(matrix: Any) -> NDArray[np.float64]:
    """Largest magnitude in each row of a CSR matrix (0 for an empty row)."""
    data = np.abs(matrix.data)
    peaks = np.zeros(matrix.shape[0], dtype=np.float64)
    starts = matrix.indptr[:-1]
    filled = np.diff(matrix.indptr) > 0
    if data.size:
        peaks[filled] = np.maximum.reduceat(data, starts[filled])
    return peaks


def fit_projection(features: Any, *, dims: int = 128, seed: int = 0) -> Floats32 | None:
    """A seeded Gaussian ``(columns, dims)`` matrix that maps rows of ``features`` to ``dims``.

    ``None`` when dense rows have at most ``dims`` columns already (nothing to
    reduce). The same for sparse TF-IDF rows and dense embeddings: on planted
    384-d clusters the projection kept the k-NN densities as well as an
    uncentred truncated SVD fitted on a sample (Spearman 0.92 against 0.91).
    """
    import scipy.sparse as sp

    if dims < 1:
        raise InvalidInput("dims must be >= 1", details={"field": "dims"})
    columns = features.shape[1]
    if not sp.issparse(features) and columns <= dims:
        return None
    return np.random.default_rng(seed).standard_normal((columns, dims), dtype=np.float32)


def project_rows(features: Any, basis: Floats32 | None) -> Floats32:
    """Rows times ``basis`` (:func:`fit_projection`; ``None``: as they are), then unit length.

    ``features`` is dense or SciPy sparse (it stays sparse). Zero rows stay zero.
    """
    import scipy.sparse as sp

    if basis is not None and basis.shape[0] != features.shape[1]:
        raise InvalidInput("the projection was fitted on another column count")
    # Rows of tiny values (1e-160) would vanish in float32: those are first divided
    # by their largest magnitude (a pass that ordinary rows skip).
    if sp.issparse(features):
        csr = sp.csr_matrix(features)
        data = np.asarray(csr.data, dtype=np.float64)
        if data.size and np.abs(data).min() < _TINY:
            # Divided, not multiplied by 1 / peak: that overflows for subnormal peaks.
            data = data / np.repeat(_row_peaks(csr), np.diff(csr.indptr))
        scaled = sp.csr_matrix((data.astype(np.float32), csr.indices, csr.indptr), shape=csr.shape)
        z = np.asarray(scaled @ basis if basis is not None else scaled.toarray(), dtype=np.float32)
    else:
        d = np.asarray(features)
        if d.ndim != 2:
            raise InvalidInput("features must be a 2-D matrix", details={"field": "features"})
        if d.size and np.abs(d[d != 0]).min(initial=np.inf) < _TINY:
            d = np.asarray(d, dtype=np.float64)
            peak = np.max(np.abs(d), axis=1, keepdims=True)
            d = np.divide(d, peak, out=np.zeros_like(d), where=peak > 0)
        d32 = np.asarray(d, dtype=np.float32)
        z = d32 @ basis if basis is not None else d32.copy()
    norms = np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
    return np.asarray(np.divide(z, norms, out=np.zeros_like(z), where=norms > 0), np.float32)


def _centres(base: Floats32, n_lists: int, rng: np.random.Generator) -> Floats32:
    """``n_lists`` unit centres: random base rows refined by two spherical Lloyd steps."""
    sample = base[rng.choice(base.shape[0], size=min(base.shape[0], 40 * n_lists), replace=False)]
    centres = sample[rng.choice(sample.shape[0], size=n_lists, replace=False)].copy()
    for _ in range(2):
        nearest = np.argmax(sample @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, nearest, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centres = np.where(norms > 0, sums / np.maximum(norms, 1e-30), centres)
    return np.asarray(centres, dtype=np.float32)


def _nearest_lists(rows: Floats32, centres: Floats32, probes: int) -> NDArray[np.int64]:
    """The ``probes`` most similar centres of each row (repeated argmax: cheaper than a sort)."""
    out = np.empty((rows.shape[0], probes), dtype=np.int64)
    for start in range(0, rows.shape[0], _BLOCK):
        sims = rows[start : start + _BLOCK] @ centres.T
        line = np.arange(sims.shape[0])
        for p in range(probes):
            best = np.argmax(sims, axis=1)
            out[start : start + _BLOCK, p] = best
            sims[line, best] = -np.inf
    return out


def ivf_top_k(
    queries: Floats32,
    base: Floats32,
    *,
    k: int,
    exclude_self: bool = False,
    probes: int = 2,
    seed: int = 0,
) -> NDArray[np.float64]:
    """The ``k`` highest (approximate-neighbour) similarities of each query row to ``base``.

    Rows must be unit length (:func:`project_rows`). With ``exclude_self`` the
    queries are the base and a row is not its own neighbour. Returns a
    ``(len(queries), k)`` array, highest first; a query whose list holds fewer
    than ``k`` rows is padded with ``-inf``.
    """
    if k < 1 or probes < 1:
        raise InvalidInput("k and probes must be >= 1", details={"field": "k"})
    n_q, n_b = queries.shape[0], base.shape[0]
    out = np.full((n_q, k), -np.inf, dtype=np.float32)
    if n_q == 0 or n_b == 0:
        return out.astype(np.float64)
    rng = np.random.default_rng(seed)
    n_lists = max(1, int(np.sqrt(n_b)))
    probes = min(probes, n_lists)
    centres = _centres(base, n_lists, rng)
    filed = _nearest_lists(base, centres, 1)[:, 0]
    asked = _nearest_lists(queries, centres, probes)
    order = np.argsort(filed, kind="stable")
    bounds = np.searchsorted(filed[order], np.arange(n_lists + 1))
    pair_lists = asked.ravel()
    pair_queries = np.repeat(np.arange(n_q), probes)
    by_list = np.argsort(pair_lists, kind="stable")
    query_bounds = np.searchsorted(pair_lists[by_list], np.arange(n_lists + 1))
    where = np.empty(n_b, dtype=np.int64)  # a base row's position within its list
    for j in range(n_lists):
        q_rows = pair_queries[by_list[query_bounds[j] : query_bounds[j + 1]]]
        members = order[bounds[j] : bounds[j + 1]]
        if q_rows.size == 0 or members.size == 0:
            continue
        block_base = base[members].T
        where[members] = np.arange(members.size)
        for start in range(0, q_rows.size, _BLOCK):
            q = q_rows[start : start + _BLOCK]
            sims = queries[q] @ block_base
            if exclude_self:
                own = filed[q] == j
                sims[np.flatnonzero(own), where[q[own]]] = -np.inf
            if sims.shape[1] > k:
                sims = np.partition(sims, sims.shape[1] - k, axis=1)[:, sims.shape[1] - k :]
            # Each base row sits in one list, so merging lists never counts a row twice.
            both = np.concatenate([out[q], sims], axis=1)
            out[q] = np.partition(both, both.shape[1] - k, axis=1)[:, both.shape[1] - k :]
    return np.asarray(-np.sort(-out, axis=1), dtype=np.float64)
