from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loupe.errors import InvalidInput
from loupe.selection.novelty import (
    accuracy_budget_threshold,
    is_out_of_scope,
    max_cosine_similarity,
    novelty_score,
    out_of_scope_score,
)


def test_out_of_scope_threshold() -> None:
    p = np.array([[0.9, 0.1], [0.55, 0.45]])
    assert out_of_scope_score(p) == pytest.approx([0.1, 0.45])
    assert is_out_of_scope(p, threshold=0.6).tolist() == [False, True]
    with pytest.raises(InvalidInput):
        is_out_of_scope(p, threshold=0.0)


def test_cosine_similarity_dense_and_sparse_agree() -> None:
    features = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    labelled = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    dense = max_cosine_similarity(features, labelled)
    sparse = max_cosine_similarity(sp.csr_matrix(features), sp.csr_matrix(labelled))
    assert dense == pytest.approx([1.0, np.sqrt(0.5), 0.0, 0.0])
    assert sparse == pytest.approx(dense)
    assert novelty_score(features, labelled) == pytest.approx(1 - dense)


def test_empty_reference_and_mismatched_columns() -> None:
    assert max_cosine_similarity(np.ones((2, 3)), np.zeros((0, 3))).tolist() == [0.0, 0.0]
    with pytest.raises(InvalidInput):
        max_cosine_similarity(np.ones((2, 3)), np.ones((1, 4)))


# --- large pools: the approximate path (forced here with a small exact_pairs_up_to) ---------


def _two_clusters(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pool: 200 rows near centre A, then 200 near centre B; labelled: 50 more near A."""
    a, b = np.abs(rng.normal(size=(2, 200)))
    near = lambda c, n: c + 0.1 * np.abs(rng.normal(size=(n, 200)))  # noqa: E731
    return np.vstack([near(a, 200), near(b, 200)]), near(a, 50)


def test_approximate_novelty_finds_the_unlabelled_cluster() -> None:
    pool, labelled = _two_clusters(np.random.default_rng(0))
    exact = max_cosine_similarity(pool, labelled)
    approx = max_cosine_similarity(pool, labelled, exact_pairs_up_to=100, rescore=0)
    assert not np.array_equal(approx, exact)
    assert np.abs(approx - exact).max() < 0.05
    # Known answer: the 100 most novel rows are all from cluster B.
    assert set(np.argsort(approx)[:100].tolist()) <= set(range(200, 400))


def test_rescoring_makes_the_novel_tail_exact_and_is_deterministic() -> None:
    pool, labelled = _two_clusters(np.random.default_rng(1))
    exact = max_cosine_similarity(pool, labelled)
    approx = max_cosine_similarity(pool, labelled, exact_pairs_up_to=100, rescore=150, seed=4)
    tail = np.argsort(approx, kind="stable")[:150]
    assert approx[tail] == pytest.approx(exact[tail])
    again = max_cosine_similarity(
        sp.csr_matrix(pool), sp.csr_matrix(labelled), exact_pairs_up_to=100, rescore=150, seed=4
    )
    assert again == pytest.approx(approx, abs=1e-5)
    assert np.array_equal(
        novelty_score(pool, labelled, seed=4), novelty_score(pool, labelled, seed=4)
    )


@settings(max_examples=30, deadline=None)
@given(
    pool=arrays(np.float64, (30, 5), elements=st.floats(-3.0, 3.0)),
    labelled=arrays(np.float64, (7, 5), elements=st.floats(-3.0, 3.0)),
    rescore=st.integers(0, 40),
    sparse=st.booleans(),
)
def test_approximate_similarities_are_finite_cosines(
    pool: np.ndarray, labelled: np.ndarray, rescore: int, sparse: bool
) -> None:
    wrap = sp.csr_matrix if sparse else np.asarray
    got = max_cosine_similarity(
        wrap(pool), wrap(labelled), exact_pairs_up_to=0, dims=3, rescore=rescore
    )
    assert got.shape == (30,)
    assert np.all(np.isfinite(got)) and np.all((got >= -1.0) & (got <= 1.0))


@pytest.mark.parametrize("sparse", [False, True])
def test_rows_of_subnormal_values_become_unit_rows_without_overflow(sparse: bool) -> None:
    # Regression: the sparse path multiplied by 1 / peak, which overflows for a peak
    # of 5e-324 (found by hypothesis).
    rows = np.array([[5e-324, 0.0, 0.0], [1e-310, -1e-310, 0.0], [0.0, 0.0, 0.0]])
    wrap = sp.csr_matrix if sparse else np.asarray
    got = max_cosine_similarity(wrap(rows), wrap(rows), exact_pairs_up_to=0, dims=2, rescore=3)
    assert np.all(np.isfinite(got)) and np.all((got >= -1.0) & (got <= 1.0))


# --- the accuracy-budget threshold -----------------------------------------------------------


def test_accuracy_budget_threshold_known_answers() -> None:
    scores = [0.9, 0.8, 0.7, 0.1]
    # One correct row may be flagged (0.25 x 4): only 0.9 is above the threshold.
    assert accuracy_budget_threshold(scores, [True, True, False, True], budget=0.25) == 0.8
    # A wrong row costs nothing: 0.7 (wrong) is flagged along with 0.9 once 0.8 may be.
    assert accuracy_budget_threshold(scores, [True, True, False, True], budget=0.5) == 0.1
    assert accuracy_budget_threshold(scores, [True] * 4, budget=0.0) == 0.9
    everything = accuracy_budget_threshold(scores, [False] * 4, budget=0.0)
    assert everything < 0.1
    with pytest.raises(InvalidInput):
        accuracy_budget_threshold(scores, [True] * 3, budget=0.1)
    with pytest.raises(InvalidInput):
        accuracy_budget_threshold(scores, [True] * 4, budget=1.0)


@settings(max_examples=60, deadline=None)
@given(
    scores=arrays(np.float64, st.integers(1, 40), elements=st.floats(-5.0, 5.0)),
    seed=st.integers(0, 1000),
    budget=st.floats(0.0, 0.99),
)
def test_accuracy_budget_threshold_spends_at_most_the_budget(
    scores: np.ndarray, seed: int, budget: float
) -> None:
    correct = np.random.default_rng(seed).random(scores.size) < 0.8
    t = accuracy_budget_threshold(scores, correct, budget=budget)
    flagged = scores > t
    assert np.sum(flagged & correct) <= budget * scores.size + 1e-9
    # Maximal: any lower threshold at a score value flags another correct row too many.
    lower = np.unique(scores[correct & ~flagged])
    if lower.size:
        more = scores > np.nextafter(lower.max(), -np.inf)
        assert np.sum(more & correct) > budget * scores.size
