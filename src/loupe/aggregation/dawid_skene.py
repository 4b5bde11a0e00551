"""Dawid-Skene: one full confusion matrix per worker, fitted by EM (empirical-Bayes prior)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.checks import check_positive
from loupe.aggregation.dirichlet import dirichlet_kl, fit_polya, polya_log_evidence
from loupe.aggregation.em import EMResult, run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable
from loupe.errors import InvalidInput

__all__ = [
    "DawidSkene",
    "PriorMode",
    "confusion_log_joint",
    "diagonal_dominant",
    "expected_confusions",
    "noise_log_evidence",
]


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


PriorMode = Literal["empirical", "fixed", "none"]
"""How :class:`DawidSkene` regularises the confusion matrices (see the class docstring)."""

_PRIOR_MODES: tuple[PriorMode, ...] = ("empirical", "fixed", "none")
_ALPHA_SWEEPS = 20


class DawidSkene(Aggregator):
    """Dawid-Skene model: each worker has a full class-conditional confusion matrix.

    Each item :math:`i` has a latent true class :math:`z_i \\sim \\operatorname{Cat}(\\pi)`;
    worker :math:`w` answers :math:`l` with probability :math:`\\theta_{wkl} = p(l \\mid z_i = k)`.
    EM starts from majority-vote proportions (as crowd-kit does) and alternates

    .. math::

        T_{ik} \\propto \\pi_k \\prod_{(w, l) \\in i} \\tilde\\theta_{wkl}, \\qquad
        N_{wkl} = \\sum_i T_{ik}\\, n_{iwl}, \\qquad \\pi_k = \\frac{\\sum_i T_{ik} + \\beta}
            {\\sum_{i,k'} T_{ik'} + K\\beta}.

    ``prior`` chooses how :math:`\\theta` is estimated from the expected counts :math:`N`:

    * ``"empirical"`` (default) — hierarchical Dawid-Skene with empirical Bayes. Every worker's
      row :math:`\\theta_{wk\\cdot}` has the prior :math:`\\operatorname{Dir}(\\alpha_{k\\cdot})`,
      and :math:`\\alpha` is *fitted to the data being aggregated* by maximising the
      marginal likelihood (:func:`loupe.aggregation.dirichlet.fit_polya`); nothing is a constant
      chosen on benchmark data. Inference is variational Bayes: the E-step uses
      :math:`\\log\\tilde\\theta_{wkl} = \\psi(N_{wkl} + \\alpha_{kl}) -
      \\psi(N_{wk\\cdot} + A_k)`, and EM maximises the evidence lower bound, which never
      decreases. Workers who behave alike pool strength (a worker seen twice is assumed to be
      like the crowd); workers who differ drive :math:`\\alpha` to 0, i.e. back to the
      un-smoothed estimator. :math:`\\beta =` ``prior_class`` defaults to 0 (maximum likelihood).
    * ``"fixed"`` — MAP under fixed pseudo-counts: ``prior_correct`` (default 2) on the diagonal
      of :math:`\\alpha`, ``prior_wrong`` (default 1) elsewhere, :math:`\\beta =` ``prior_class``
      (default 1); :math:`\\theta_{wkl} \\propto N_{wkl} + \\alpha_{kl}`. This was the previous
      default; its constants were chosen on the developer datasets.
    * ``"none"`` — the un-smoothed maximum-likelihood estimator
      :math:`\\theta_{wkl} \\propto N_{wkl}` with :math:`\\pi_k \\propto \\sum_i T_{ik}`, as in
      the original paper and crowd-kit's ``DawidSkene``.

    Everything runs in log space on a sparse item x (worker, label) count matrix.
    ``confusions_`` is the ``(n_workers, K, K)`` array of :math:`\\theta` (the posterior mean
    :math:`(N_{wkl} + \\alpha_{kl}) / (N_{wk\\cdot} + A_k)` under ``"empirical"``) indexed
    ``[w, true, given]``; ``dirichlet_`` is the ``(K, K)`` prior :math:`\\alpha` used (fitted,
    fixed or zeros); ``skills_[w]`` is the prior-weighted accuracy
    :math:`\\sum_k \\pi_k \\theta_{wkk}`.

    References: A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer
    Error-Rates Using the EM Algorithm", *JRSS C* 28(1):20-28, 1979; H. Kim and Z. Ghahramani,
    "Bayesian Classifier Combination", *AISTATS* 2012; Q. Liu, J. Peng and A. Ihler,
    "Variational Inference for Crowdsourcing", *NeurIPS* 2012.

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
    dirichlet_: FloatArray
    prior_used_: PriorMode
    n_iter_: int
    objective_: list[float]

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        prior: PriorMode = "empirical",
        prior_correct: float | None = None,
        prior_wrong: float | None = None,
        prior_class: float | None = None,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.prior = prior
        self.prior_correct = prior_correct
        self.prior_wrong = prior_wrong
        self.prior_class = prior_class
        self.classes = classes
        self.random_state = random_state

    def _settings(self) -> tuple[float, float, float]:
        """Validated ``(prior_correct, prior_wrong, prior_class)`` for the chosen mode."""
        if self.prior not in _PRIOR_MODES:
            raise InvalidInput(
                f"prior must be one of {', '.join(_PRIOR_MODES)}, got {self.prior!r}",
                details={"prior": repr(self.prior)},
            )
        if self.prior != "fixed":
            for name in ("prior_correct", "prior_wrong"):
                if getattr(self, name) is not None:
                    raise InvalidInput(
                        f"{name} applies to prior='fixed' only (prior={self.prior!r})",
                        details={name: getattr(self, name), "prior": self.prior},
                    )
        fixed = self.prior == "fixed"
        correct = (2.0 if fixed else 0.0) if self.prior_correct is None else self.prior_correct
        wrong = (1.0 if fixed else 0.0) if self.prior_wrong is None else self.prior_wrong
        klass = (1.0 if fixed else 0.0) if self.prior_class is None else self.prior_class
        check_positive(correct, "prior_correct", allow_zero=True)
        check_positive(wrong, "prior_wrong", allow_zero=True)
        check_positive(klass, "prior_class", allow_zero=True)
        return correct, wrong, klass

    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        correct, wrong, prior_class = self._settings()
        mode: PriorMode = self.prior
        result, alpha = self._em(table, gold_rows, gold_codes, mode, correct, wrong, prior_class)
        if mode == "empirical" and not self._identified(
            table, gold_rows, gold_codes, result, alpha
        ):
            # The pooled crowd is no better than chance, or the answers are explained at least
            # as well by "they do not depend on the true class": the classes are not identified
            # under pooling, so use the un-smoothed estimator (crowd-kit's reference) instead.
            mode = "none"
            result, alpha = self._em(table, gold_rows, gold_codes, mode, 0.0, 0.0, prior_class)
        log_pi, log_theta, _ = result.params
        self.prior_used_ = mode
        self.priors_ = np.exp(log_pi)
        self.dirichlet_ = alpha
        if mode == "empirical":
            posterior = expected_confusions(table, result.probas) + alpha
            self.confusions_ = posterior / posterior.sum(axis=2, keepdims=True)
        else:
            self.confusions_ = np.exp(log_theta)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        skills = np.einsum("k,wkk->w", self.priors_, self.confusions_)
        return result.probas, skills

    def _identified(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        result: EMResult[tuple[FloatArray, FloatArray, float]],
        alpha: FloatArray,
    ) -> bool:
        """Whether the pooled fit identifies the classes, decided only on what EM resolved.

        EM stops once its objective gains less than ``tol`` per answer, so ``resolution =
        tol * n_labels`` nats is the finest difference the fit itself determines; both tests
        below ignore what lies under it. Otherwise a decision taken on rounding noise would
        depend on how labels, workers and items happen to be named (their sorted order sets the
        order of every floating-point sum), and renaming them would change the result:

        * A class whose expected number of answers is under ``resolution`` (EM emptied it, e.g.
          a label given once, to an item that another class explains better) leaves its prior
          row unidentified: fitted on counts of ~1e-6, where the evidence is flat, the row would
          drift with the rounding (and took the EM path with it), so the M-step keeps it as it
          was and only supported rows are checked here.
        * The evidence lower bound must beat the "noise" model by more than ``resolution``: when
          Dawid-Skene collapses onto that model the two are equal up to rounding, and an exact
          tie means "not identified".
        """
        resolution = self.tol * table.n_labels
        supported = expected_confusions(table, result.probas).sum(axis=(0, 2)) > resolution
        if not diagonal_dominant(alpha, rows=supported):
            return False
        noise = noise_log_evidence(
            table, gold_rows, gold_codes, result.params[0], tol=0.1 * resolution
        )
        return result.objective[-1] * table.n_labels > noise + resolution

    def _em(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        mode: PriorMode,
        correct: float,
        wrong: float,
        prior_class: float,
    ) -> tuple[EMResult[tuple[FloatArray, FloatArray, float]], FloatArray]:
        """Run EM under one prior mode; return the result and the Dirichlet prior used."""
        K = table.n_classes
        tiny = np.finfo(np.float64).tiny

        def class_log_prior(probas: FloatArray) -> FloatArray:
            class_counts = probas.sum(axis=0) + prior_class
            prior = class_counts / max(float(class_counts.sum()), tiny)
            return np.asarray(np.log(np.maximum(prior, tiny)), dtype=np.float64)

        if mode == "empirical":
            from scipy.special import digamma  # lazy, like every scipy import in this package

            state = {"alpha": np.ones((K, K))}
            resolution = self.tol * table.n_labels
            inner_tol = 0.1 * resolution  # finer than EM's own stopping rule

            def m_step(probas: FloatArray) -> tuple[FloatArray, FloatArray, float]:
                counts = expected_confusions(table, probas)
                # A partial M-step (generalised EM): a few evidence-raising sweeps, warm-started.
                # A class EM is emptying keeps its prior row (see ``_identified``): fitted on
                # counts under EM's resolution, the row would follow the rounding, not the data.
                resolved = counts.sum(axis=(0, 2)) > resolution
                fitted = np.where(resolved[None, :, None], counts, 0.0)
                alpha = fit_polya(fitted, state["alpha"], max_iter=_ALPHA_SWEEPS, tol=inner_tol)
                state["alpha"] = alpha
                posterior = counts + alpha
                expected_log = digamma(posterior)
                expected_log -= digamma(posterior.sum(axis=2, keepdims=True))
                kl = dirichlet_kl(posterior, alpha, expected_log)
                return class_log_prior(probas), expected_log, kl

            def log_prior(params: tuple[FloatArray, FloatArray, float]) -> float:
                return -params[2] + prior_class * float(params[0].sum())

        else:
            pseudo = np.full((K, K), wrong)
            np.fill_diagonal(pseudo, correct)
            state = {"alpha": pseudo}

            def m_step(probas: FloatArray) -> tuple[FloatArray, FloatArray, float]:
                counts = expected_confusions(table, probas) + pseudo
                theta = counts / np.maximum(counts.sum(axis=2, keepdims=True), tiny)
                return class_log_prior(probas), np.log(np.maximum(theta, tiny)), 0.0

            def log_prior(params: tuple[FloatArray, FloatArray, float]) -> float:
                return float((pseudo * params[1]).sum() + prior_class * params[0].sum())

        def e_step(params: tuple[FloatArray, FloatArray, float]) -> FloatArray:
            return confusion_log_joint(table, params[0], params[1])

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
        return result, state["alpha"]


def noise_log_evidence(
    table: LabelTable,
    gold_rows: IntArray,
    gold_codes: IntArray,
    log_prior: FloatArray,
    *,
    tol: float | None = None,
) -> float:
    """Log evidence of the "noise" model: each worker draws answers from one multinomial,
    whatever the true class, under an empirical-Bayes Dirichlet prior (plus the class prior's
    log probability of the gold classes, which the Dawid-Skene objective also contains).

    The collapsed Dawid-Skene model (identical confusion rows) reaches this value; its
    evidence lower bound must exceed it for the answers to carry information on the classes.
    """
    flat = table.worker_codes * table.n_classes + table.label_codes
    counts = np.asarray(
        np.bincount(flat, weights=table.weights, minlength=table.n_workers * table.n_classes),
        dtype=np.float64,
    ).reshape(table.n_workers, 1, table.n_classes)
    alpha = fit_polya(counts, tol=tol)
    return float(polya_log_evidence(counts, alpha).sum() + log_prior[gold_codes].sum())


def diagonal_dominant(alpha: FloatArray, *, rows: NDArray[np.bool_] | None = None) -> bool:
    """Whether every prior row puts strictly more mass on the true class than on any other.

    This is Dawid-Skene's identifiability assumption (the pooled crowd beats chance), checked
    with a relative margin of 1e-9 so that exact ties from symmetric data count as failures.
    Rows are compared by their means :math:`\\alpha_{kl} / A_k`; one class is always dominant.
    ``rows`` (a boolean mask) limits the check to the rows the data determine.
    """
    if alpha.shape[0] < 2:
        return True
    means = alpha / alpha.sum(axis=1, keepdims=True)
    diagonal = np.diag(means)
    off = np.where(np.eye(len(means), dtype=bool), -np.inf, means).max(axis=1)
    dominant = diagonal > off * (1.0 + 1e-9)
    return bool(np.all(dominant if rows is None else dominant[rows]))
