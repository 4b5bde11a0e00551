from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.covariance import LedoitWolf

from loupe.errors import InvalidInput
from loupe.selection.mahalanobis import RelativeMahalanobis


def test_known_answer_in_one_dimension() -> None:
    # Residuals from the class means are +-1 (variance 1); the background variance is 26.
    x = np.array([[-1.0], [1.0], [9.0], [11.0]])
    rm = RelativeMahalanobis().fit(x, ["a", "a", "b", "b"])
    assert rm.classes_ == ("a", "b")
    assert rm.score(np.array([[0.0], [5.0], [20.0]])) == pytest.approx(
        [0 - 25 / 26, 25 - 0, 100 - 225 / 26]
    )


def _reference(x: np.ndarray, y: list[str], rows: np.ndarray) -> np.ndarray:
    """The formula written out with explicit inverses."""
    labels = np.array(y)
    classes = sorted(set(y))
    means = np.vstack([x[labels == c].mean(axis=0) for c in classes])
    residuals = x - means[[classes.index(c) for c in y]]
    inv = np.linalg.inv(LedoitWolf().fit(residuals).covariance_)
    inv0 = np.linalg.inv(LedoitWolf().fit(x).covariance_)
    d = np.array([[(r - m) @ inv @ (r - m) for m in means] for r in rows])
    centred = rows - x.mean(axis=0)
    return np.asarray(d.min(axis=1) - np.einsum("ij,jk,ik->i", centred, inv0, centred))


def test_matches_the_written_out_formula() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(c, [1.0, 2.0, 0.5, 1.0], (15, 4)) for c in (0.0, 3.0, -2.0)])
    y = ["a"] * 15 + ["b"] * 15 + ["c"] * 15
    rows = rng.normal(0, 3, (10, 4))
    assert RelativeMahalanobis().fit(x, y).score(rows) == pytest.approx(
        _reference(x, y, rows), rel=1e-6, abs=1e-6
    )


def test_far_rows_score_higher_than_the_training_rows() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (30, 5)), rng.normal(4, 1, (30, 5))])
    rm = RelativeMahalanobis().fit(x, ["a"] * 30 + ["b"] * 30)
    assert rm.score(np.full((1, 5), 30.0))[0] > rm.score(x).max()


def test_rejects_bad_input() -> None:
    with pytest.raises(InvalidInput):
        RelativeMahalanobis().fit(np.ones((3, 2)), ["a", "b"])
    with pytest.raises(InvalidInput):
        RelativeMahalanobis().fit(np.array([[np.nan, 1.0], [1.0, 2.0]]), ["a", "b"])
    with pytest.raises(InvalidInput):
        RelativeMahalanobis().score(np.ones((1, 2)))
    rm = RelativeMahalanobis().fit(np.eye(3), ["a", "b", "b"])
    with pytest.raises(InvalidInput):
        rm.score(np.ones((1, 2)))


_data = st.builds(
    lambda seed, n: np.random.default_rng(seed).normal(0, 1, (n, 3)),
    st.integers(0, 10_000),
    st.integers(6, 20),
)


@settings(max_examples=30, deadline=None)
@given(x=_data, shift=st.floats(-50, 50), seed=st.integers(0, 1000))
def test_invariant_to_translation_and_to_renaming_classes(
    x: np.ndarray, shift: float, seed: int
) -> None:
    y = ["a", "b"] * (len(x) // 2) + ["a"] * (len(x) % 2)
    rows = np.random.default_rng(seed).normal(0, 2, (5, 3))
    base = RelativeMahalanobis().fit(x, y).score(rows)
    moved = RelativeMahalanobis().fit(x + shift, y).score(rows + shift)
    renamed = RelativeMahalanobis().fit(x, ["z" if c == "a" else "y" for c in y]).score(rows)
    assert moved == pytest.approx(base, rel=1e-6, abs=1e-5)
    assert renamed == pytest.approx(base, rel=1e-9, abs=1e-9)
