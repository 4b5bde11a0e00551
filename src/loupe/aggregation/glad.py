"""GLAD: worker ability times item easiness decides how often an answer is right."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState, check_positive
from loupe.aggregation.em import run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

__all__ = ["GLAD"]

_Params = tuple[FloatArray, FloatArray, FloatArray]


class GLAD(Aggregator):
    """GLAD (Generative model of Labels, Abilities, and Difficulties).

    Worker :math:`w` has ability :math:`\\alpha_w \\in \\mathbb{R}`; item :math:`i` has
    easiness :math:`\\beta_i = e^{b_i} > 0`. An answer is right with probability
    :math:`\\sigma(\\alpha_w \\beta_i)` and otherwise uniform over the other :math:`K - 1` classes:

    .. math::

        p(l \\mid z_i = k) = \\sigma(\\alpha_w\\beta_i)^{[l = k]}
            \\Big(\\frac{1 - \\sigma(\\alpha_w\\beta_i)}{K - 1}\\Big)^{[l \\ne k]}.

    EM: the E-step gives :math:`T_{ik}`; the M-step maximises
    :math:`\\sum_{(i, w, l)} T_{il}\\log\\sigma(x) + (1 - T_{il})\\log\\frac{1 - \\sigma(x)}{K-1}`
    (:math:`x = \\alpha_w\\beta_i`) plus Gaussian log-priors
    :math:`\\alpha_w \\sim \\mathcal N(\\mu_\\alpha, \\sigma_\\alpha^2)`,
    :math:`b_i \\sim \\mathcal N(0, \\sigma_b^2)` by ``m_step_iter`` L-BFGS steps (generalised EM),
    with the analytic gradient :math:`\\partial/\\partial x = T_{il} - \\sigma(x)` summed over
    answers with :func:`numpy.bincount`. Negative :math:`\\alpha` models adversarial workers.

    ``skills_[w]`` is :math:`\\sigma(\\alpha_w)`, the accuracy on an item of typical easiness
    (:math:`\\beta = 1`); ``abilities_`` (:math:`\\alpha`) and ``easiness_`` (:math:`\\beta`).

    Reference: J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan, "Whose Vote Should
    Count More: Optimal Integration of Labels from Labelers of Unknown Expertise", NeurIPS 2009.

    >>> glad = GLAD().fit(
    ...     ["a", "a", "a", "b", "b", "b"],
    ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
    ...     ["x", "x", "y", "y", "y", "y"],
    ... )
    >>> glad.labels_
    {'a': 'x', 'b': 'y'}
    """

    abilities_: FloatArray
    easiness_: FloatArray
    priors_: FloatArray
    n_iter_: int
    objective_: list[float]

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        m_step_iter: int = 20,
        ability_mean: float = 1.0,
        ability_sd: float = 1.0,
        log_easiness_sd: float = 1.0,
        prior_class: float = 1.0,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.m_step_iter = m_step_iter
        self.ability_mean = ability_mean
        self.ability_sd = ability_sd
        self.log_easiness_sd = log_easiness_sd
        self.prior_class = prior_class
        self.classes = classes
        self.random_state = random_state

    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        from scipy.special import expit

        check_positive(self.ability_sd, "ability_sd")
        check_positive(self.log_easiness_sd, "log_easiness_sd")
        check_positive(self.prior_class, "prior_class", allow_zero=True)
        K, W, N = table.n_classes, table.n_workers, table.n_items
        rows, cols, labels, counts = (
            table.item_codes,
            table.worker_codes,
            table.label_codes,
            table.weights,
        )
        log_others = np.log(K - 1) if K > 1 else 0.0
        tiny = np.finfo(np.float64).tiny
        state = {"x": np.concatenate([np.full(W, self.ability_mean), np.zeros(N)])}

        def parameter_log_prior(alpha: FloatArray, log_beta: FloatArray) -> float:
            return float(
                -0.5 * (((alpha - self.ability_mean) / self.ability_sd) ** 2).sum()
                - 0.5 * ((log_beta / self.log_easiness_sd) ** 2).sum()
            )

        def m_step(probas: FloatArray) -> _Params:
            from scipy.optimize import minimize

            right = probas[rows, labels]  # T_il, posterior that each answer is right

            def negative_q(x: FloatArray) -> tuple[float, FloatArray]:
                alpha, log_beta = x[:W], x[W:]
                beta = np.exp(log_beta)
                z = alpha[cols] * beta[rows]
                log_right = -np.logaddexp(0.0, -z)
                log_wrong = -np.logaddexp(0.0, z) - log_others
                q = float((counts * (right * log_right + (1.0 - right) * log_wrong)).sum())
                q += parameter_log_prior(alpha, log_beta)
                slope = counts * (right - expit(z))
                grad_alpha = np.bincount(cols, weights=slope * beta[rows], minlength=W).astype(
                    np.float64
                )
                grad_alpha -= (alpha - self.ability_mean) / self.ability_sd**2
                grad_log_beta = np.bincount(rows, weights=slope * z, minlength=N).astype(np.float64)
                grad_log_beta -= log_beta / self.log_easiness_sd**2
                return -q, -np.concatenate([grad_alpha, grad_log_beta])

            if K > 1:
                found = minimize(
                    negative_q,
                    state["x"],
                    jac=True,
                    method="L-BFGS-B",
                    options={"maxiter": self.m_step_iter},
                )
                state["x"] = np.asarray(found.x, dtype=np.float64)
            class_counts = probas.sum(axis=0) + self.prior_class
            log_pi = np.log(np.maximum(class_counts / class_counts.sum(), tiny))
            return log_pi, state["x"][:W].copy(), state["x"][W:].copy()

        def e_step(params: _Params) -> FloatArray:
            log_pi, alpha, log_beta = params
            z = alpha[cols] * np.exp(log_beta)[rows]
            log_right = -np.logaddexp(0.0, -z)
            log_wrong = -np.logaddexp(0.0, z) - log_others
            base = np.bincount(rows, weights=counts * log_wrong, minlength=N)
            bonus = np.bincount(
                rows * K + labels, weights=counts * (log_right - log_wrong), minlength=N * K
            )
            return base[:, None] + bonus.reshape(N, K) + log_pi

        def log_prior(params: _Params) -> float:
            log_pi, alpha, log_beta = params
            return parameter_log_prior(alpha, log_beta) + self.prior_class * float(log_pi.sum())

        result = run_em(
            vote_proportions(table),
            m_step=m_step,
            e_step=e_step,
            log_prior=log_prior,
            gold_rows=gold_rows,
            gold_codes=gold_codes,
            n_answers=table.n_labels,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        log_pi, alpha, log_beta = result.params
        self.priors_ = np.exp(log_pi)
        self.abilities_ = alpha
        self.easiness_ = np.exp(log_beta)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        return result.probas, np.asarray(expit(alpha), dtype=np.float64)
