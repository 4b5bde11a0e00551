"""``fit_polya`` skips evidence passes only where the surrogate proves the gain: same answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma

from loupe.aggregation import dirichlet
from loupe.aggregation.dirichlet import (
    ALPHA_MAX,
    ALPHA_MIN,
    dirichlet_kl,
    fit_polya,
    polya_log_evidence,
)
from loupe.aggregation.table import FloatArray


def reference_fit(counts: FloatArray, alpha: FloatArray, max_iter: int, tol: float) -> FloatArray:
    """Minka's fixed point with the evidence computed after every sweep (the plain algorithm)."""
    current = np.clip(alpha, ALPHA_MIN, ALPHA_MAX)
    totals = counts.sum(axis=2)
    active = totals.sum(axis=0) > 0
    evidence = polya_log_evidence(counts, current).sum()
    for _ in range(max_iter):
        strength = current.sum(axis=1)
        denominator = (digamma(totals + strength) - digamma(strength)).sum(axis=0)
        numerator = (digamma(counts + current) - digamma(current)).sum(axis=0)
        safe = active & (denominator > 0)
        ratio = np.ones_like(current)
        ratio[safe] = numerator[safe] / denominator[safe, None]
        updated = np.clip(current * ratio, ALPHA_MIN, ALPHA_MAX)
        moved = float(np.max(np.abs(updated - current) / current))
        current = updated
        if moved < 1e-6:
            break
        previous, evidence = evidence, polya_log_evidence(counts, current).sum()
        if evidence - previous < tol:
            break
    return current


soft_counts = st.tuples(
    st.integers(1, 30), st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**32 - 1)
).map(
    lambda shape: np.random.default_rng(shape[3]).gamma(
        0.3, 3.0, size=(shape[0], shape[1], shape[2])
    )  # many counts below 1: soft E-step counts
)


@settings(max_examples=200, deadline=None)
@given(
    counts=soft_counts,
    start=st.floats(1e-3, 50.0),
    tol=st.sampled_from([1e-6, 1e-3, 0.1, 1.0]),
    max_iter=st.integers(1, 40),
)
def test_fit_polya_matches_the_every_sweep_evidence_reference(
    counts: FloatArray, start: float, tol: float, max_iter: int
) -> None:
    alpha = np.full(counts.shape[1:], start)
    expected = reference_fit(counts, alpha, max_iter, tol)
    np.testing.assert_allclose(
        fit_polya(counts, alpha, max_iter=max_iter, tol=tol), expected, rtol=1e-9
    )


@settings(max_examples=300, deadline=None)
@given(counts=soft_counts, start=st.floats(1e-3, 50.0), scale=st.floats(0.05, 20.0))
def test_the_sweep_bound_never_exceeds_the_evidence_gain(
    counts: FloatArray, start: float, scale: float
) -> None:
    """Minka's bounds as fit_polya uses them: the slope at the old alpha where N = 0 or N >= 1
    (convex in log alpha), at the new alpha where 0 < N < 1 (concave), for any step."""
    alpha = np.full(counts.shape[1:], start)
    updated = alpha * scale ** np.linspace(-1.0, 1.0, alpha.size).reshape(alpha.shape)
    soft = (counts > 0) & (counts < 1)
    old_slope = np.where(soft, 0.0, digamma(counts + alpha) - digamma(alpha)).sum(axis=0)
    new_slope = np.where(soft, digamma(counts + updated) - digamma(updated), 0.0).sum(axis=0)
    totals = counts.sum(axis=2)
    denominator = (digamma(totals + alpha.sum(axis=1)) - digamma(alpha.sum(axis=1))).sum(axis=0)
    step = np.log(updated / alpha)
    bound = (
        (alpha * old_slope * step).sum()
        + (updated * new_slope * step).sum()
        - (denominator * (updated.sum(axis=1) - alpha.sum(axis=1))).sum()
    )
    gain = polya_log_evidence(counts, updated).sum() - polya_log_evidence(counts, alpha).sum()
    assert gain >= bound - 1e-8 * (1.0 + abs(gain))


def test_fit_polya_computes_the_evidence_only_near_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    counts = rng.gamma(1.0, 20.0, size=(200, 3, 3)) + np.eye(3) * 50.0
    calls: list[int] = []
    original = dirichlet._polya_total

    def counted(*args: object) -> float:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dirichlet, "_polya_total", counted)
    fitted = fit_polya(counts, max_iter=200, tol=1e-3)
    sweeps = len(calls)
    np.testing.assert_allclose(fitted, reference_fit(counts, np.ones((3, 3)), 200, 1e-3), rtol=1e-9)
    assert sweeps <= 10  # the reference computes it after each of many more sweeps


def test_dirichlet_kl_with_the_expected_log_given_is_the_same() -> None:
    rng = np.random.default_rng(1)
    prior = rng.gamma(2.0, 1.0, size=(3, 4))
    posterior = prior + rng.gamma(1.0, 5.0, size=(7, 3, 4))
    expected_log = digamma(posterior) - digamma(posterior.sum(axis=-1, keepdims=True))
    assert dirichlet_kl(posterior, prior, expected_log) == pytest.approx(
        dirichlet_kl(posterior, prior), rel=1e-12
    )
    assert dirichlet_kl(prior, prior) == pytest.approx(0.0, abs=1e-9)
