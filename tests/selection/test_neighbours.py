from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loupe.errors import InvalidInput
from loupe.selection.neighbours import fit_projection, ivf_top_k, project_rows


def _brute_top_k(queries: np.ndarray, base: np.ndarray, k: int, *, self_: bool) -> np.ndarray:
    sims = queries @ base.T
    if self_:
        np.fill_diagonal(sims, -np.inf)
    return -np.sort(-sims, axis=1)[:, :k]


def test_probing_every_list_is_exact_search() -> None:
    rng = np.random.default_rng(0)
    z = project_rows(rng.normal(size=(500, 12)), None)
    got = ivf_top_k(z, z, k=5, exclude_self=True, probes=10**6)
    assert got == pytest.approx(_brute_top_k(z, z, 5, self_=True), abs=1e-5)
    queries = project_rows(rng.normal(size=(40, 12)), None)
    assert ivf_top_k(queries, z, k=1, probes=10**6) == pytest.approx(
        _brute_top_k(queries, z, 1, self_=False), abs=1e-5
    )


def test_few_probes_find_most_neighbours_of_planted_clusters() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, 64))
    x = centres[rng.integers(20, size=2000)] + 0.3 * rng.normal(size=(2000, 64))
    z = project_rows(x, None)
    got = ivf_top_k(z, z, k=10, exclude_self=True, probes=3, seed=2)
    assert np.abs(got - _brute_top_k(z, z, 10, self_=True)).mean() < 0.01


def test_projection_keeps_sparse_and_dense_rows_alike_and_unit_length() -> None:
    rng = np.random.default_rng(3)
    x = np.abs(rng.normal(size=(50, 300))) * (rng.random((50, 300)) < 0.1)
    x[0] = 0.0
    basis = fit_projection(sp.csr_matrix(x), dims=32, seed=5)
    assert basis is not None and basis.shape == (300, 32)
    dense, sparse = project_rows(x, basis), project_rows(sp.csr_matrix(x), basis)
    assert dense == pytest.approx(sparse, abs=1e-5)
    assert np.linalg.norm(dense[1:], axis=1) == pytest.approx(np.ones(49), abs=1e-5)
    assert dense[0].tolist() == [0.0] * 32
    assert fit_projection(x[:, :10], dims=32) is None  # nothing to reduce
    tiny = project_rows(np.full((2, 300), 1e-160), basis)  # would vanish in float32
    assert np.linalg.norm(tiny, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_bad_arguments() -> None:
    z = np.eye(3, dtype=np.float32)
    with pytest.raises(InvalidInput):
        ivf_top_k(z, z, k=0)
    with pytest.raises(InvalidInput):
        fit_projection(z, dims=0)
    with pytest.raises(InvalidInput):
        project_rows(np.ones((2, 4)), np.ones((3, 2), dtype=np.float32))
    assert ivf_top_k(z[:0], z, k=2).shape == (0, 2)
