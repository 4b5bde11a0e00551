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
    from scipy.special import gammaln  # lazy: scipy is not loaded with the package

    posterior = counts + alpha
    per_row = (
        gammaln(posterior).sum(axis=2)
        - gammaln(posterior.sum(axis=2))
        - gammaln(alpha).sum(axis=1)
        + gammaln(alpha.sum(axis=1))
    )
    return np.asarray(per_row.sum(axis=0), dtype=np.float64)


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

    _, K, L = counts.shape
    current = np.ones((K, L)) if alpha is None else np.clip(alpha, ALPHA_MIN, ALPHA_MAX)
    totals = counts.sum(axis=2)
    active = totals.sum(axis=0) > 0
    evidence = polya_log_evidence(counts, current).sum() if tol is not None else 0.0
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
        if moved < rtol:
            break
        if tol is not None:
            previous, evidence = evidence, polya_log_evidence(counts, current).sum()
            if evidence - previous < tol:
                break
    return current


def dirichlet_kl(posterior: FloatArray, prior: FloatArray) -> float:
    """:math:`\\sum \\operatorname{KL}(\\operatorname{Dir}(a) \\,\\|\\, \\operatorname{Dir}(b))`
    over the leading axes; the last axis is the Dirichlet's."""
    from scipy.special import digamma, gammaln  # lazy: scipy is not loaded with the package

    a_total = posterior.sum(axis=-1)
    b_total = prior.sum(axis=-1)
    expected_log = digamma(posterior) - digamma(a_total)[..., None]
    kl = (
        gammaln(a_total)
        - gammaln(posterior).sum(axis=-1)
        - gammaln(b_total)
        + gammaln(prior).sum(axis=-1)
        + ((posterior - prior) * expected_log).sum(axis=-1)
    )
    return float(np.sum(kl))
