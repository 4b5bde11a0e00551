from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loupe.errors import InvalidInput
from loupe.selection.density import knn_density


def test_known_answer_cluster_and_outlier() -> None:
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    got = knn_density(x, k=2)
    # Row 0: neighbours row 1 (1.0) and row 2 (0.6); row 3: rows 2 (0.8) and 0 or 1 (0.0).
    assert got.tolist() == pytest.approx([0.8, 0.8, 0.7, 0.4])


def test_sparse_dense_and_block_size_agree() -> None:
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(37, 6)))
    dense = knn_density(x, k=5)
    assert knn_density(sp.csr_matrix(x), k=5, block=4) == pytest.approx(dense)


def test_small_pools_and_bad_arguments() -> None:
    assert knn_density(np.ones((1, 3))).tolist() == [0.0]
    assert knn_density(np.array([[1.0, 0.0], [0.0, 1.0]]), k=10).tolist() == [0.0, 0.0]
    with pytest.raises(InvalidInput):
        knn_density(np.ones((3, 2)), k=0)
    with pytest.raises(InvalidInput):
        knn_density(np.ones((3, 2)), block=0)


@settings(max_examples=50, deadline=None)
@given(
    x=arrays(np.float64, (12, 4), elements=st.floats(0.0, 5.0)),
    k=st.integers(1, 11),
    seed=st.integers(0, 2**32 - 1),
)
def test_permuting_rows_permutes_densities_within_bounds(x: np.ndarray, k: int, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(12)
    base = knn_density(x, k=k)
    assert knn_density(x[order], k=k) == pytest.approx(base[order], abs=1e-9)
    assert np.all((base >= -1e-9) & (base <= 1 + 1e-9))  # non-negative rows: cosine in [0, 1]
    # A duplicate of a row is its nearest neighbour: k=1 density 1 (for a non-zero row).
    doubled = np.vstack([x, x[:1]])
    if np.linalg.norm(x[0]) > 0:
        assert knn_density(doubled, k=1)[0] == pytest.approx(1.0)


def test_rows_of_tiny_values_stay_unit_length() -> None:
    """Regression: squaring 1e-160 underflows, and densities came out above 1."""
    x = np.full((3, 4), 7.40138483e-162)
    assert knn_density(x, k=1) == pytest.approx(np.ones(3))
    from scipy.sparse import csr_matrix

    assert knn_density(csr_matrix(x), k=1) == pytest.approx(np.ones(3))
