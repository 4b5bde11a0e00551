"""One-coin Dawid-Skene: one accuracy per worker, errors spread evenly over the other classes."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.checks import check_positive
from loupe.aggregation.dawid_skene import confusion_log_joint, expected_confusions
from loupe.aggregation.em import run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

__all__ = ["OneCoinDawidSkene", "one_coin_log_confusions"]


def one_coin_log_confusions(accuracies: FloatArray, n_classes: int) -> FloatArray:
    """``(W, K, K)`` log confusion matrices: ``p_w`` on the diagonal, ``(1-p_w)/(K-1)`` off it."""
    tiny = np.finfo(np.float64).tiny
    if n_classes == 1:
        return np.zeros((len(accuracies), 1, 1))
    wrong = np.log(np.maximum((1.0 - accuracies) / (n_classes - 1), tiny))
    log_theta = np.repeat(wrong[:, None, None], n_classes, axis=1).repeat(n_classes, axis=2)
    diagonal = np.arange(n_classes)
    log_theta[:, diagonal, diagonal] = np.log(np.maximum(accuracies, tiny))[:, None]
    return log_theta


class OneCoinDawidSkene(Aggregator):
    """One-coin Dawid-Skene: worker :math:`w` is right with probability :math:`p_w`.

    The Dawid-Skene model with each confusion matrix constrained to
    :math:`\\theta_{wkk} = p_w` and :math:`\\theta_{wkl} = (1 - p_w)/(K - 1)` for :math:`l \\ne k`
    (symmetric errors: one parameter per worker instead of :math:`K(K-1)`, which helps sparse
    workers but cannot represent class-dependent bias). EM with a :math:`\\operatorname{Beta}(a, b)`
    prior, :math:`a =` ``prior_correct``, :math:`b =` ``prior_wrong`` (pseudo-counts):

    .. math::

        T_{ik} \\propto \\pi_k \\prod_{(w, l) \\in i} \\theta_{wkl}, \\qquad
        p_w = \\frac{\\sum_{(i, l) \\in w} T_{il} + a}{n_w + a + b}, \\qquad
        \\pi_k \\propto \\sum_i T_{ik} + \\beta.

    ``skills_[w]`` is :math:`p_w` (also ``accuracies_``).

    References: the one-coin model of Karger, Oh and Shah, "Iterative Learning for Reliable
    Crowdsourcing Systems", NeurIPS 2011; its EM with spectral initialisation and guarantees in
    Zhang, Chen, Zhou and Jordan, "Spectral Methods Meet EM: A Provably Optimal Algorithm for
    Crowdsourcing", NeurIPS 2014 (here initialised from majority vote).

    >>> oc = OneCoinDawidSkene().fit(
    ...     ["a", "a", "a", "b", "b", "b"],
    ...     ["w1", "w2", "w3", "w1", "w2", "w3"],
    ...     ["yes", "yes", "no", "no", "no", "yes"],
    ... )
    >>> oc.labels_
    {'a': 'yes', 'b': 'no'}
    >>> bool(oc.skills_["w1"] > oc.skills_["w3"])
    True
    """

    accuracies_: FloatArray
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
        totals = table.worker_totals()
        tiny = np.finfo(np.float64).tiny

        def m_step(probas: FloatArray) -> tuple[FloatArray, FloatArray]:
            correct = np.trace(expected_confusions(table, probas), axis1=1, axis2=2)
            denominator = np.maximum(totals + self.prior_correct + self.prior_wrong, tiny)
            accuracies = np.clip((correct + self.prior_correct) / denominator, 0.0, 1.0)
            class_counts = probas.sum(axis=0) + self.prior_class
            return np.log(np.maximum(class_counts / class_counts.sum(), tiny)), accuracies

        def e_step(params: tuple[FloatArray, FloatArray]) -> FloatArray:
            return confusion_log_joint(table, params[0], one_coin_log_confusions(params[1], K))

        def log_prior(params: tuple[FloatArray, FloatArray]) -> float:
            log_pi, accuracies = params
            right = np.log(np.maximum(accuracies, tiny))
            wrong = np.log(np.maximum(1.0 - accuracies, tiny))
            return float(
                (self.prior_correct * right + self.prior_wrong * wrong).sum()
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
        log_pi, accuracies = result.params
        self.priors_ = np.exp(log_pi)
        self.accuracies_ = accuracies
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        return result.probas, accuracies.copy()
