"""Dawid-Skene: one full confusion matrix per worker, fitted by EM."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState, check_positive
from loupe.aggregation.em import run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

__all__ = ["DawidSkene", "confusion_log_joint", "expected_confusions"]


def confusion_log_joint(
    table: LabelTable, log_prior: FloatArray, log_theta: FloatArray
) -> FloatArray:
    """:math:`\\log\\pi_k + \\sum_{(w,l) \\in i} \\log\\theta_{wkl}` for every item and class.

    ``log_theta`` has shape ``(n_workers, K, K)`` indexed ``[worker, true, given]``. One sparse
    product ``counts @ L`` with ``L[(w, l), k] = log θ[w, k, l]`` sums over all answers at once.
    """
    K = table.n_classes
    by_answer = log_theta.transpose(0, 2, 1).reshape(table.n_workers * K, K)
    return np.asarray(table.counts @ by_answer) + log_prior


def expected_confusions(table: LabelTable, probas: FloatArray) -> FloatArray:
    """Expected counts ``N[w, k, l] = Σ_i T_ik · #(w gave l to i)`` as a ``(W, K, K)`` array."""
    K = table.n_classes
    by_answer = np.asarray(table.counts.T @ probas)  # [(w, l), k]
    return by_answer.reshape(table.n_workers, K, K).transpose(0, 2, 1)


class DawidSkene(Aggregator):
    """Dawid-Skene model: each worker has a full class-conditional confusion matrix.

    Each item :math:`i` has a latent true class :math:`z_i \\sim \\operatorname{Cat}(\\pi)`;
    worker :math:`w` answers :math:`l` with probability :math:`\\theta_{wkl} = p(l \\mid z_i = k)`.
    EM alternates

    .. math::

        T_{ik} \\propto \\pi_k \\prod_{(w, l) \\in i} \\theta_{wkl}, \\qquad
        \\theta_{wkl} = \\frac{\\sum_i T_{ik}\\, n_{iwl} + \\alpha_{kl}}
            {\\sum_{l'} (\\sum_i T_{ik}\\, n_{iwl'} + \\alpha_{kl'})}, \\qquad
        \\pi_k \\propto \\sum_i T_{ik} + \\beta,

    i.e. MAP estimates under Dirichlet priors whose pseudo-counts are
    :math:`\\alpha_{kk} =` ``prior_correct`` on the diagonal and ``prior_wrong`` elsewhere (so a
    worker seen once is assumed better than chance instead of perfectly right or wrong) and
    :math:`\\beta =` ``prior_class``. Everything runs in log space on a sparse
    item x (worker, label) count matrix; initial posteriors are majority-vote proportions.

    ``skills_[w]`` is the prior-weighted accuracy :math:`\\sum_k \\pi_k \\theta_{wkk}`;
    ``confusions_`` is the ``(n_workers, K, K)`` array :math:`\\theta` indexed ``[w, true, given]``.

    Reference: A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer
    Error-Rates Using the EM Algorithm", *JRSS C* 28(1):20-28, 1979.

    >>> ds = DawidSkene().fit(
    ...     ["a", "a", "a", "b", "b", "b"],
    ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
    ...     ["cat", "cat", "dog", "dog", "dog", "dog"],
    ... )
    >>> ds.labels_
    {'a': 'cat', 'b': 'dog'}
    >>> ds.probas_.sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    confusions_: FloatArray
    priors_: FloatArray
    n_iter_: int
    objective_: list[float]

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        prior_correct: float = 2.0,
        prior_wrong: float = 1.0,
        prior_class: float = 1.0,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.prior_correct = prior_correct
        self.prior_wrong = prior_wrong
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
        check_positive(self.prior_correct, "prior_correct", allow_zero=True)
        check_positive(self.prior_wrong, "prior_wrong", allow_zero=True)
        check_positive(self.prior_class, "prior_class", allow_zero=True)
        K = table.n_classes
        pseudo = np.full((K, K), self.prior_wrong)
        np.fill_diagonal(pseudo, self.prior_correct)
        tiny = np.finfo(np.float64).tiny

        def m_step(probas: FloatArray) -> tuple[FloatArray, FloatArray]:
            counts = expected_confusions(table, probas) + pseudo
            theta = counts / np.maximum(counts.sum(axis=2, keepdims=True), tiny)
            class_counts = probas.sum(axis=0) + self.prior_class
            prior = class_counts / class_counts.sum()
            return np.log(np.maximum(prior, tiny)), np.log(np.maximum(theta, tiny))

        def e_step(params: tuple[FloatArray, FloatArray]) -> FloatArray:
            return confusion_log_joint(table, params[0], params[1])

        def log_prior(params: tuple[FloatArray, FloatArray]) -> float:
            log_pi, log_theta = params
            return float((pseudo * log_theta).sum() + self.prior_class * log_pi.sum())

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
        log_pi, log_theta = result.params
        self.priors_ = np.exp(log_pi)
        self.confusions_ = np.exp(log_theta)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        skills = np.einsum("k,wkk->w", self.priors_, self.confusions_)
        return result.probas, skills
