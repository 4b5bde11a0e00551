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


# --- large pools: the approximate path (forced here with a small exact_up_to) ---------------


def _planted(rng: np.random.Generator, *, per_cluster: int = 200, outliers: int = 30) -> np.ndarray:
    """Three tight clusters of non-negative rows in 300-d, plus scattered outliers."""
    centres = np.abs(rng.normal(size=(3, 300)))
    tight = [c + 0.05 * np.abs(rng.normal(size=(per_cluster, 300))) for c in centres]
    spread = np.abs(rng.normal(size=(outliers, 300))) ** 4  # heavy-tailed: far from everything
    return np.vstack([*tight, spread])


def test_approximation_agrees_with_exact_on_planted_clusters() -> None:
    x = _planted(np.random.default_rng(0))
    exact = knn_density(x, k=10)
    approx = knn_density(x, k=10, exact_up_to=100, seed=3)
    assert not np.array_equal(approx, exact)  # it really took the approximate path
    clustered, outliers = slice(0, 600), slice(600, None)
    assert np.abs(approx[clustered] - exact[clustered]).max() < 0.02
    # The known answer: every clustered row is more typical than every outlier.
    assert approx[clustered].min() > approx[outliers].max()
    assert np.corrcoef(approx, exact)[0, 1] > 0.95


def test_approximation_is_deterministic_given_a_seed() -> None:
    x = sp.random(400, 1000, density=0.02, random_state=1, format="csr")
    first = knn_density(x, k=5, exact_up_to=50, seed=7)
    assert np.array_equal(first, knn_density(x, k=5, exact_up_to=50, seed=7))
    assert np.array_equal(first, knn_density(x.tocoo(), k=5, exact_up_to=50, seed=7))


def test_sparse_and_dense_inputs_approximate_the_same_densities() -> None:
    x = _planted(np.random.default_rng(2), per_cluster=150, outliers=20)
    exact = knn_density(x, k=5)
    dense = knn_density(x, k=5, exact_up_to=100)
    sparse = knn_density(sp.csr_matrix(x), k=5, exact_up_to=100)
    assert dense == pytest.approx(sparse, abs=1e-5)  # same seeded projection either way
    assert np.abs(dense - exact).mean() < 0.02


def test_dense_rows_narrower_than_the_projection_are_searched_as_they_are() -> None:
    rng = np.random.default_rng(4)
    x = np.abs(rng.normal(size=(300, 8)))
    approx = knn_density(x, k=4, exact_up_to=10, probes=50)  # probes >= lists: exhaustive
    assert approx == pytest.approx(knn_density(x, k=4), abs=1e-5)


def test_pools_up_to_the_threshold_stay_exact() -> None:
    rng = np.random.default_rng(5)
    x = np.abs(rng.normal(size=(60, 40)))
    exact = knn_density(x, k=3, exact_up_to=10**9)
    assert np.array_equal(knn_density(x, k=3, exact_up_to=60), exact)
    assert not np.array_equal(knn_density(x, k=3, exact_up_to=59), exact)
    with pytest.raises(InvalidInput):
        knn_density(x, dims=0)


@settings(max_examples=30, deadline=None)
@given(
    x=arrays(np.float64, (40, 6), elements=st.floats(-5.0, 5.0)),
    k=st.integers(1, 45),
    seed=st.integers(0, 2**32 - 1),
    sparse=st.booleans(),
)
def test_approximate_densities_are_finite_cosines(
    x: np.ndarray, k: int, seed: int, sparse: bool
) -> None:
    features = sp.csr_matrix(x) if sparse else x
    got = knn_density(features, k=k, exact_up_to=0, dims=4, seed=seed)
    assert got.shape == (40,)
    assert np.all(np.isfinite(got))
    # In range, but not always >= 0 for non-negative rows: projected cosines are noisy.
    assert np.all((got >= -1.0) & (got <= 1.0))
