"""MACE: each worker either answers competently or spams from a personal label distribution."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.checks import check_positive
from loupe.aggregation.dawid_skene import confusion_log_joint, expected_confusions
from loupe.aggregation.em import run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

__all__ = ["MACE"]

_Params = tuple[FloatArray, FloatArray, FloatArray]


def _mace_confusions(competence: FloatArray, strategy: FloatArray) -> FloatArray:
    """``θ[w, k, l] = c_w [k = l] + (1 - c_w) ξ_wl`` as a ``(W, K, K)`` array."""
    K = strategy.shape[1]
    spam = (1.0 - competence)[:, None] * strategy  # (W, K): p(spam and answer l)
    theta = np.repeat(spam[:, None, :], K, axis=1)
    diagonal = np.arange(K)
    theta[:, diagonal, diagonal] += competence[:, None]
    return theta


class MACE(Aggregator):
    """Multi-Annotator Competence Estimation (MACE).

    For each answer, worker :math:`w` is competent with probability :math:`c_w` and then gives
    the true class; otherwise it spams, drawing its answer from its own strategy
    :math:`\\xi_w \\in \\Delta^{K}` regardless of the truth:

    .. math::

        p(l \\mid z_i = k) = c_w [l = k] + (1 - c_w)\\, \\xi_{wl}.

    Fitted by EM (MAP): with :math:`r_{wl} = c_w / (c_w + (1 - c_w)\\xi_{wl})` the posterior
    probability that a correct-looking answer was competent, and :math:`N_{wkl}` the expected
    confusion counts,

    .. math::

        c_w = \\frac{\\sum_l N_{wll} r_{wl} + a}{n_w + a + b}, \\qquad
        \\xi_{wl} \\propto n_{wl} - N_{wll} r_{wl} + \\gamma,

    with :math:`a =` ``prior_competent``, :math:`b =` ``prior_spam`` (Beta pseudo-counts) and
    :math:`\\gamma =` ``prior_strategy`` (Dirichlet pseudo-count). Hovy et al. fix a uniform prior
    over the truth and use random restarts; here the class prior is learned (smoothed by
    ``prior_class``) and EM starts from majority vote, which is deterministic.

    ``skills_[w]`` is the probability of a correct answer,
    :math:`c_w + (1 - c_w)\\sum_k \\pi_k \\xi_{wk}`; ``competences_`` and ``strategies_`` hold
    :math:`c` and :math:`\\xi`.

    Reference: D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy, "Learning Whom to Trust with
    MACE", NAACL-HLT 2013.

    >>> mace = MACE().fit(
    ...     ["a", "a", "a", "b", "b", "b"],
    ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
    ...     ["x", "x", "y", "y", "y", "y"],
    ... )
    >>> mace.labels_
    {'a': 'x', 'b': 'y'}
    """

    competences_: FloatArray
    strategies_: FloatArray
    priors_: FloatArray
    n_iter_: int
    objective_: list[float]

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        prior_competent: float = 2.0,
        prior_spam: float = 1.0,
        prior_strategy: float = 1.0,
        prior_class: float = 1.0,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.prior_competent = prior_competent
        self.prior_spam = prior_spam
        self.prior_strategy = prior_strategy
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
        for name in ("prior_competent", "prior_spam", "prior_strategy", "prior_class"):
            check_positive(getattr(self, name), name, allow_zero=True)
        K = table.n_classes
        given = table.worker_label_counts()  # n_wl
        totals = given.sum(axis=1)
        tiny = np.finfo(np.float64).tiny
        state = {
            "competence": np.full(table.n_workers, 0.5),
            "strategy": np.full(given.shape, 1 / K),
        }

        def m_step(probas: FloatArray) -> _Params:
            matched = np.diagonal(expected_confusions(table, probas), axis1=1, axis2=2)  # N_wll
            competence, strategy = state["competence"], state["strategy"]
            spam_mass = (1.0 - competence)[:, None] * strategy
            competent_share = competence[:, None] / np.maximum(
                competence[:, None] + spam_mass, tiny
            )
            competent = matched * competent_share
            new_competence = (competent.sum(axis=1) + self.prior_competent) / np.maximum(
                totals + self.prior_competent + self.prior_spam, tiny
            )
            spam_counts = np.maximum(given - competent, 0.0) + self.prior_strategy
            spam_totals = spam_counts.sum(axis=1, keepdims=True)
            new_strategy = np.divide(
                spam_counts,
                spam_totals,
                out=np.full_like(spam_counts, 1 / K),
                where=spam_totals > 0,
            )
            state["competence"], state["strategy"] = new_competence, new_strategy
            class_counts = probas.sum(axis=0) + self.prior_class
            log_pi = np.log(np.maximum(class_counts / class_counts.sum(), tiny))
            return log_pi, new_competence, new_strategy

        def e_step(params: _Params) -> FloatArray:
            log_pi, competence, strategy = params
            theta = _mace_confusions(competence, strategy)
            return confusion_log_joint(table, log_pi, np.log(np.maximum(theta, tiny)))

        def log_prior(params: _Params) -> float:
            log_pi, competence, strategy = params
            return float(
                self.prior_competent * np.log(np.maximum(competence, tiny)).sum()
                + self.prior_spam * np.log(np.maximum(1.0 - competence, tiny)).sum()
                + self.prior_strategy * np.log(np.maximum(strategy, tiny)).sum()
                + self.prior_class * log_pi.sum()
            )

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
        log_pi, competence, strategy = result.params
        self.priors_ = np.exp(log_pi)
        self.competences_ = competence
        self.strategies_ = strategy
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        skills = competence + (1.0 - competence) * (strategy @ self.priors_)
        return result.probas, skills
