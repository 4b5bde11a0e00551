from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.learning.calibration import fit_temperature, log_loss_at


def test_recovers_the_temperature_that_generated_the_labels() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(20_000, 5))
    true_t = 2.5
    p = np.exp(true_t * scores)
    p /= p.sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(scores, targets) == pytest.approx(true_t, rel=0.05)


def test_overconfident_scores_are_flattened_and_timid_ones_sharpened() -> None:
    scores = np.array([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
    mostly_right = [0, 1, 0, 1, 1]  # 4 of 5 right: the best t makes p(top) = 0.8
    t = fit_temperature(scores, mostly_right)
    top = 1 / (1 + np.exp(-4 * t))
    assert top == pytest.approx(0.8, abs=1e-3)
    assert fit_temperature(scores * 0.01, [0, 1, 0, 1, 0]) == pytest.approx(100.0, rel=1e-3)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_fitted_temperature_never_loses_to_the_identity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=3, size=(40, 4))
    targets = rng.integers(0, 4, size=40)
    t = fit_temperature(scores, targets)
    assert 0.01 <= t <= 100.0
    assert log_loss_at(scores, targets, t) <= log_loss_at(scores, targets, 1.0) + 1e-9


@pytest.mark.parametrize(
    ("scores", "targets"),
    [
        (np.zeros((2, 3)), [0]),
        (np.zeros((2, 3)), [0, 3]),
        (np.zeros(3), [0, 1, 2]),
        (np.zeros((0, 2)), []),
    ],
)
def test_bad_shapes_are_refused(scores: np.ndarray, targets: list[int]) -> None:
    with pytest.raises(InvalidInput):
        fit_temperature(scores, targets)
