from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.selection.audit_sample import draw_audit, estimate_accuracy


def test_draw_records_inverse_probability_weights() -> None:
    draw = draw_audit(200, size=10, rng=np.random.default_rng(1))
    assert draw.indices.size == 10
    assert np.unique(draw.indices).size == 10
    assert draw.inclusion_probability == pytest.approx(0.05)
    assert draw.weights == pytest.approx(np.full(10, 20.0))
    with pytest.raises(InvalidInput):
        draw_audit(3, size=4, rng=np.random.default_rng(0))


def test_estimate_is_unbiased_where_uncertainty_sampling_is_not() -> None:
    # A model that is right on 80% of the pool, wrong mostly on uncertain items.
    rng = np.random.default_rng(7)
    n = 5000
    uncertainty = rng.random(n)
    correct = rng.random(n) > uncertainty * 0.4
    truth = correct.mean()
    estimates = []
    for _ in range(200):
        draw = draw_audit(n, size=100, rng=rng)
        estimates.append(estimate_accuracy(correct[draw.indices], draw.weights).accuracy)
    assert np.mean(estimates) == pytest.approx(truth, abs=0.01)
    top = np.argsort(-uncertainty)[:100]
    assert correct[top].mean() < truth - 0.1


def test_weighted_estimate_and_standard_error() -> None:
    est = estimate_accuracy(np.array([1, 0, 1, 1]), np.array([1.0, 1.0, 2.0, 4.0]))
    assert est.accuracy == pytest.approx(7 / 8)
    assert est.n == 4
    assert est.standard_error > 0
    single = estimate_accuracy(np.array([1]), np.array([2.0]))
    assert np.isnan(single.standard_error)
    with pytest.raises(InvalidInput):
        estimate_accuracy(np.array([]), np.array([]))
    with pytest.raises(InvalidInput):
        estimate_accuracy(np.array([1, 0]), np.array([1.0, 0.0]))
