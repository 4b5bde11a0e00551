"""Empirical-Bayes Dirichlet priors: the prior strength comes from the data, not from a constant.

A hierarchical Dawid-Skene model gives every worker's confusion row for true class :math:`k` the
same Dirichlet prior :math:`\\theta_{wk\\cdot} \\sim \\operatorname{Dir}(\\alpha_{k\\cdot})`.
Integrating :math:`\\theta` out of a worker's (expected) answer counts :math:`N_{wk\\cdot}` gives
the Dirichlet-multinomial (Pólya) evidence

.. math::

    \\log p(N_{\\cdot k \\cdot} \\mid \\alpha_k) = \\sum_w \\Big[\\log B(\\alpha_k + N_{wk\\cdot})
        - \\log B(\\alpha_k)\\Big], \\qquad
    \\log B(a) = \\sum_l \\log\\Gamma(a_l) - \\log\\Gamma\\Big(\\sum_l a_l\\Big),

and :func:`fit_polya` maximises it over :math:`\\alpha_k` (type-II maximum likelihood). Workers
who agree with each other give a large :math:`\\sum_l \\alpha_{kl}` (strong pooling); workers who
each answer in their own way drive it towards 0, the un-smoothed maximum-likelihood estimator.

Reference: T. Minka, "Estimating a Dirichlet distribution", 2000 (fixed-point iteration (55)).
"""

from __future__ import annotations

import numpy as np

from loupe.aggregation.table import FloatArray

__all__ = ["ALPHA_MAX", "ALPHA_MIN", "dirichlet_kl", "fit_polya", "polya_log_evidence"]

ALPHA_MIN = 1e-10
"""Numerical floor of a pseudo-count (crowd-kit clips probabilities at the same 1e-10)."""
ALPHA_MAX = 1e8
"""Numerical ceiling: beyond it every worker's row is the pooled row to machine precision."""


def polya_log_evidence(counts: FloatArray, alpha: FloatArray) -> FloatArray:
    """Dirichlet-multinomial log evidence per prior row, summed over workers.

    ``counts`` has shape ``(W, K, L)`` (worker, prior row, outcome) and ``alpha`` ``(K, L)``;
    the result has shape ``(K,)``. Multinomial coefficients are left out (they do not depend on
    ``alpha``).
    """
    return _evidence(counts + alpha, counts.sum(axis=2) + alpha.sum(axis=1), alpha, len(counts))


def _polya_total(
    posterior: FloatArray, posterior_totals: FloatArray, alpha: FloatArray, n_workers: int
) -> float:
    """The sum over prior rows of :func:`_evidence`."""
    return float(_evidence(posterior, posterior_totals, alpha, n_workers).sum())


def _evidence(
    posterior: FloatArray, posterior_totals: FloatArray, alpha: FloatArray, n_workers: int
) -> FloatArray:
    """:func:`polya_log_evidence` from ``N + alpha`` and its row totals, already computed.

    Sums over workers first (contiguous, fast) and counts the prior's own terms once, times
    ``n_workers``, instead of summing ``(W, K, L)`` arrays along their short last axis.
    """
    from scipy.special import gammaln  # lazy: scipy is not loaded with the package

    per_row = (
        gammaln(posterior).sum(axis=0).sum(axis=1)
        - gammaln(posterior_totals).sum(axis=0)
        - n_workers * (gammaln(alpha).sum(axis=1) - gammaln(alpha.sum(axis=1)))
    )
    return np.asarray(per_row, dtype=np.float64)


def fit_polya(
    counts: FloatArray,
    alpha: FloatArray | None = None,
    *,
    max_iter: int = 1000,
    rtol: float = 1e-6,
    tol: float | None = None,
) -> FloatArray:
    """Type-II maximum-likelihood Dirichlet parameters, one row per prior row.

    ``counts`` is ``(W, K, L)``: soft counts are fine. Minka's fixed point

    .. math::

        \\alpha_{kl} \\leftarrow \\alpha_{kl}\\,
            \\frac{\\sum_w \\psi(N_{wkl} + \\alpha_{kl}) - \\psi(\\alpha_{kl})}
                 {\\sum_w \\psi(N_{wk\\cdot} + A_k) - \\psi(A_k)},
        \\qquad A_k = \\sum_l \\alpha_{kl},

    never decreases the evidence (each sweep is a minorise-maximise step); it starts from ``alpha``
    (default: all ones) and stops when no entry moves by more than ``rtol`` relative, when one
    sweep gains less than ``tol`` in log evidence (if given), or after ``max_iter`` sweeps. Rows
    without any counts keep their start value; entries stay within ``[ALPHA_MIN, ALPHA_MAX]``.

    >>> agree = np.array([[[9.0, 1.0]], [[8.0, 2.0]], [[9.0, 1.0]]])
    >>> bool(fit_polya(agree).sum() > 20)  # like-minded workers: a strong, pooled prior
    True
    >>> differ = np.array([[[10.0, 0.0]], [[0.0, 10.0]], [[10.0, 0.0]]])
    >>> bool(fit_polya(differ).sum() < 0.5)  # workers unlike each other: close to no prior
    True
    """
    from scipy.special import digamma  # lazy: scipy is not loaded with the package

    n_workers, K, L = counts.shape
    current = np.ones((K, L)) if alpha is None else np.clip(alpha, ALPHA_MIN, ALPHA_MAX)
    totals = counts.sum(axis=2)
    active = totals.sum(axis=0) > 0
    strength = current.sum(axis=1)
    posterior = counts + current  # N + alpha, updated in place
    posterior_totals = totals + strength
    gradient = np.empty_like(posterior)  # psi(N + alpha) - psi(alpha), per worker
    # Where 0 < N < 1, log Gamma(N + alpha) - log Gamma(alpha) is concave in log alpha, so the
    # evidence bound below takes its slope at the new alpha there (at the old one elsewhere).
    soft = ((counts > 0) & (counts < 1)).astype(np.float64) if tol is not None else None
    previous: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None
    evidence: float | None = None  # log evidence of ``current``, once computed
    for _ in range(max_iter):
        np.subtract(digamma(posterior, out=gradient), digamma(current), out=gradient)
        numerator = gradient.sum(axis=0)
        soft_numerator = (gradient * soft).sum(axis=0) if soft is not None else numerator
        if previous is not None and tol is not None:
            # A lower bound on what the last sweep gained in evidence, from the slopes at hand
            # (Minka's bounds): while it reaches ``tol`` no gammaln pass is needed to know that
            # the sweep gained ``tol``; otherwise the evidence decides, as in the plain loop.
            old, old_numerator, old_soft, old_denominator = previous
            step = np.log(current / old)
            bound = float(
                (old * (old_numerator - old_soft) * step).sum()
                + (current * soft_numerator * step).sum()
                - (old_denominator * (strength - old.sum(axis=1))).sum()
            )
            if bound < tol:
                if evidence is None:
                    before = _polya_total(counts + old, totals + old.sum(axis=1), old, n_workers)
                else:
                    before = evidence
                evidence = _polya_total(posterior, posterior_totals, current, n_workers)
                if evidence - before < tol:
                    break
            else:
                evidence = None
        denominator = (digamma(posterior_totals) - digamma(strength)).sum(axis=0)
        safe = active & (denominator > 0)
        ratio = np.ones_like(current)
        ratio[safe] = numerator[safe] / denominator[safe, None]
        updated = np.clip(current * ratio, ALPHA_MIN, ALPHA_MAX)
        moved = float(np.max(np.abs(updated - current) / current))
        if moved < rtol:
            current = updated
            break
        if soft is not None:
            previous = (current, numerator, soft_numerator, denominator)
        current = updated
        strength = current.sum(axis=1)
        np.add(counts, current, out=posterior)
        posterior_totals = totals + strength
    return current


def dirichlet_kl(
    posterior: FloatArray, prior: FloatArray, expected_log: FloatArray | None = None
) -> float:
    """:math:`\\sum \\operatorname{KL}(\\operatorname{Dir}(a) \\,\\|\\, \\operatorname{Dir}(b))`
    over the leading axes; the last axis is the Dirichlet's.

    ``expected_log`` is :math:`\\psi(a) - \\psi(\\sum a)` when the caller has it already.
    """
    from scipy.special import digamma, gammaln  # lazy: scipy is not loaded with the package

    a_total = posterior.sum(axis=-1)
    b_total = prior.sum(axis=-1)
    if expected_log is None:
        expected_log = digamma(posterior) - digamma(a_total)[..., None]
    # Whole-array sums (the total is all that is returned): no reductions along the short axis.
    kl = (
        gammaln(a_total).sum()
        - gammaln(posterior).sum()
        - np.broadcast_to(gammaln(b_total), a_total.shape).sum()
        + np.broadcast_to(gammaln(prior), posterior.shape).sum()
        + ((posterior - prior) * expected_log).sum()
    )
    return float(kl)
