"""GLAD: worker ability times item easiness decides how often an answer is right."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.checks import check_positive
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
    :math:`b_i \\sim \\mathcal N(0, \\sigma_b^2)` (generalised EM: ``m_step_iter`` rounds, each one
    Newton step on every ability, then one on every log-easiness). Given the easiness, the
    objective is a sum of independent one-dimensional terms, one per worker (and given the
    abilities, one per item), so each block takes all its Newton steps at once from
    :func:`numpy.bincount` sums of the gradient :math:`T_{il} - \\sigma(x)` and curvature
    :math:`\\sigma(x)(1 - \\sigma(x))` (Fisher scoring for the log-easiness, where the objective
    need not be concave); a step that would lower a term is halved until it does not. This
    replaced L-BFGS over all parameters at once, which took ~268 s on 1M answers.
    Negative :math:`\\alpha` models adversarial workers.

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
        m_step_iter: int = 2,
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
        mean, var_alpha, var_b = self.ability_mean, self.ability_sd**2, self.log_easiness_sd**2
        state = {"alpha": np.full(W, mean), "log_beta": np.zeros(N)}

        def parameter_log_prior(alpha: FloatArray, log_beta: FloatArray) -> float:
            return float(
                -0.5 * ((alpha - mean) ** 2).sum() / var_alpha - 0.5 * (log_beta**2).sum() / var_b
            )

        def newton_block(
            theta: FloatArray,
            group: IntArray,
            other: FloatArray,
            *,
            log_scale: bool,
            prior_mean: float,
            prior_var: float,
            right: FloatArray,
        ) -> FloatArray:
            """One safeguarded Newton step on every coordinate of a separable block.

            Each answer's :math:`x` is ``theta[group] * other`` (abilities; ``other`` the items'
            easiness) or ``other * exp(theta[group])`` (``log_scale``: log-easiness; ``other``
            the workers' abilities).
            """
            n = len(theta)

            def terms(values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
                x = other * (np.exp(values)[group] if log_scale else values[group])
                log_sig = -np.logaddexp(0.0, -x)
                # T log s(x) + (1 - T) log(1 - s(x)) with log(1 - s(x)) = log s(x) - x, less
                # the constant (1 - T) log(K - 1).
                fit = np.bincount(
                    group, weights=counts * (log_sig - (1.0 - right) * x), minlength=n
                )
                return fit - 0.5 * (values - prior_mean) ** 2 / prior_var, x, log_sig

            q, x, log_sig = terms(theta)
            sig = np.exp(log_sig)
            dx = x if log_scale else other  # dx / dtheta
            slope = counts * (right - sig) * dx
            curve = counts * sig * (1.0 - sig) * dx * dx
            gradient = (
                np.bincount(group, weights=slope, minlength=n) - (theta - prior_mean) / prior_var
            )
            hessian = np.bincount(group, weights=curve, minlength=n) + 1.0 / prior_var
            step = gradient / hessian
            for _ in range(30):
                candidate = theta + step
                worse = terms(candidate)[0] < q
                if not worse.any():
                    return np.asarray(candidate, dtype=np.float64)
                step = np.where(worse, 0.5 * step, step)
            return np.asarray(np.where(worse, theta, candidate), dtype=np.float64)

        def m_step(probas: FloatArray) -> _Params:
            right = probas[rows, labels]  # T_il, posterior that each answer is right
            alpha, log_beta = state["alpha"], state["log_beta"]
            for _ in range(self.m_step_iter if K > 1 else 0):
                alpha = newton_block(
                    alpha,
                    cols,
                    np.exp(log_beta)[rows],
                    log_scale=False,
                    prior_mean=mean,
                    prior_var=var_alpha,
                    right=right,
                )
                log_beta = newton_block(
                    log_beta,
                    rows,
                    alpha[cols],
                    log_scale=True,
                    prior_mean=0.0,
                    prior_var=var_b,
                    right=right,
                )
            state["alpha"], state["log_beta"] = alpha, log_beta
            class_counts = probas.sum(axis=0) + self.prior_class
            log_pi = np.log(np.maximum(class_counts / class_counts.sum(), tiny))
            return log_pi, alpha.copy(), log_beta.copy()

        def e_step(params: _Params) -> FloatArray:
            log_pi, alpha, log_beta = params
            z = alpha[cols] * np.exp(log_beta)[rows]
            log_right = -np.logaddexp(0.0, -z)
            log_wrong = log_right - z - log_others  # log((1 - s(z)) / (K - 1))
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
