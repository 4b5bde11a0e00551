"""Expectation-maximisation in log space, shared by every latent-class aggregator.

Each model supplies an M-step (posteriors → parameters), an E-step (parameters → log joint
:math:`\\log p(z_i = k, \\text{labels}_i)`) and the log of its parameter prior. The loop here
alternates them, clamps gold items to their known class, and stops when the MAP objective per
answer,

.. math::

    \\mathcal{L} = \\frac{1}{n}\\Big(\\sum_{i \\notin G} \\log \\sum_k p(z_i = k, \\text{labels}_i)
        + \\sum_{i \\in G} \\log p(z_i = g_i, \\text{labels}_i) + \\log p(\\theta)\\Big),

improves by less than ``tol`` (the same per-answer criterion as crowd-kit's ``tol``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from loupe.aggregation.table import FloatArray, IntArray

__all__ = ["EMResult", "e_step_posteriors", "run_em"]

P = TypeVar("P")
_COLUMN_LOOP_MAX = 16
"""Widest array :func:`_row_reduce` reduces column by column."""


@dataclass(frozen=True)
class EMResult(Generic[P]):
    """Final posteriors, parameters, iterations run and the objective after each iteration."""

    probas: FloatArray
    params: P
    n_iter: int
    objective: list[float]


def e_step_posteriors(
    log_joint: FloatArray, gold_rows: IntArray, gold_codes: IntArray
) -> tuple[FloatArray, float]:
    """Posteriors from a log joint, with gold items clamped; also the log evidence.

    A hand-rolled row-wise log-sum-exp (shift by the row maximum, one ``exp``) gives both the
    normalised posteriors and the log evidence; it is several times faster than
    :func:`scipy.special.logsumexp` on tall, narrow arrays.
    """
    shift = _row_reduce(np.maximum, log_joint)
    shift[~np.isfinite(shift)] = 0.0
    scaled = log_joint - shift[:, None]
    np.exp(scaled, out=scaled)
    total = _row_reduce(np.add, scaled)
    probas = scaled
    probas /= total[:, None]
    log_norm = np.log(total) + shift
    log_evidence = float(log_norm.sum())
    if len(gold_rows):
        log_evidence += float((log_joint[gold_rows, gold_codes] - log_norm[gold_rows]).sum())
        probas[gold_rows] = 0.0
        probas[gold_rows, gold_codes] = 1.0
    return probas, log_evidence


def _row_reduce(ufunc: np.ufunc, array: FloatArray) -> FloatArray:
    """``ufunc.reduce(array, axis=1)`` column by column, left to right.

    On a tall array with few columns (items x classes) numpy's reduction along the short,
    contiguous axis is several times slower than one whole-column operation per class. With many
    columns the strided column reads lose that advantage, so numpy reduces those itself.
    """
    if array.shape[1] > _COLUMN_LOOP_MAX:
        return np.asarray(ufunc.reduce(array, axis=1), dtype=np.float64)
    out = array[:, 0].copy()
    for column in range(1, array.shape[1]):
        ufunc(out, array[:, column], out=out)
    return out


def run_em(
    initial: FloatArray,
    *,
    m_step: Callable[[FloatArray], P],
    e_step: Callable[[P], FloatArray],
    log_prior: Callable[[P], float],
    gold_rows: IntArray,
    gold_codes: IntArray,
    n_answers: float,
    tol: float,
    max_iter: int,
) -> EMResult[P]:
    """Alternate M- and E-steps from ``initial`` posteriors until the objective settles."""
    probas = initial.copy()
    if len(gold_rows):
        probas[gold_rows] = 0.0
        probas[gold_rows, gold_codes] = 1.0
    params = m_step(probas)
    history: list[float] = []
    previous = -np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported after the loop
        probas, log_evidence = e_step_posteriors(e_step(params), gold_rows, gold_codes)
        objective = (log_evidence + log_prior(params)) / n_answers
        history.append(objective)
        params = m_step(probas)
        if objective - previous < tol:
            break
        previous = objective
    return EMResult(probas=probas, params=params, n_iter=n_iter, objective=history)
