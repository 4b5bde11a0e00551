"""GLAD's block-Newton M-step reaches the same fit as the L-BFGS M-step it replaced."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from loupe.aggregation import GLAD
from loupe.aggregation.em import run_em
from loupe.aggregation.majority_vote import vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

from .synthetic import accuracy, make_crowd

_Params = tuple[FloatArray, FloatArray, FloatArray]


class LbfgsGLAD(GLAD):
    """The previous implementation: L-BFGS over all abilities and log-easiness per M-step."""

    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        K, W, N = table.n_classes, table.n_workers, table.n_items
        rows, cols, labels, counts = (
            table.item_codes,
            table.worker_codes,
            table.label_codes,
            table.weights,
        )
        log_others = np.log(K - 1)
        state = {"x": np.concatenate([np.full(W, self.ability_mean), np.zeros(N)])}

        def parameter_log_prior(alpha: FloatArray, log_beta: FloatArray) -> float:
            return float(
                -0.5 * (((alpha - self.ability_mean) / self.ability_sd) ** 2).sum()
                - 0.5 * ((log_beta / self.log_easiness_sd) ** 2).sum()
            )

        def m_step(probas: FloatArray) -> _Params:
            right = probas[rows, labels]

            def negative_q(x: FloatArray) -> tuple[float, FloatArray]:
                alpha, log_beta = x[:W], x[W:]
                beta = np.exp(log_beta)
                z = alpha[cols] * beta[rows]
                log_right = -np.logaddexp(0.0, -z)
                log_wrong = -np.logaddexp(0.0, z) - log_others
                q = float((counts * (right * log_right + (1.0 - right) * log_wrong)).sum())
                q += parameter_log_prior(alpha, log_beta)
                slope = counts * (right - expit(z))
                grad_alpha = (
                    np.bincount(cols, weights=slope * beta[rows], minlength=W)
                    - (alpha - self.ability_mean) / self.ability_sd**2
                )
                grad_log_beta = (
                    np.bincount(rows, weights=slope * z, minlength=N)
                    - log_beta / self.log_easiness_sd**2
                )
                return -q, -np.concatenate([grad_alpha, grad_log_beta])

            found = minimize(
                negative_q, state["x"], jac=True, method="L-BFGS-B", options={"maxiter": 20}
            )
            state["x"] = np.asarray(found.x, dtype=np.float64)
            class_counts = probas.sum(axis=0) + self.prior_class
            log_pi = np.log(class_counts / class_counts.sum())
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
            return np.asarray(base[:, None] + bonus.reshape(N, K) + log_pi, dtype=np.float64)

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
        _, alpha, log_beta = result.params
        self.abilities_, self.easiness_ = alpha, np.exp(log_beta)
        self.objective_ = result.objective
        return result.probas, np.asarray(expit(alpha), dtype=np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_fit_as_the_lbfgs_m_step(seed: int) -> None:
    crowd = make_crowd(seed, n_items=60, n_workers=10, n_classes=3, accuracy=(0.3, 0.9))
    args = (crowd.items, crowd.workers, crowd.labels)
    new = GLAD(tol=1e-12, max_iter=2000).fit(*args)
    old = LbfgsGLAD(tol=1e-12, max_iter=2000).fit(*args)
    np.testing.assert_allclose(new.probas_, old.probas_, atol=1e-4)
    np.testing.assert_allclose(new.abilities_, old.abilities_, atol=1e-3)
    np.testing.assert_allclose(new.easiness_, old.easiness_, rtol=1e-3)
    assert new.objective_[-1] == pytest.approx(old.objective_[-1], abs=1e-8)
    assert new.labels_ == old.labels_


def test_default_fit_is_as_accurate_as_before_and_the_objective_never_falls() -> None:
    crowd = make_crowd(7, n_items=300, n_workers=15, accuracy=(0.35, 0.9))
    args = (crowd.items, crowd.workers, crowd.labels)
    new = GLAD().fit(*args)
    old = LbfgsGLAD().fit(*args)
    assert accuracy(new.labels_, crowd.truth) >= accuracy(old.labels_, crowd.truth)
    assert np.all(np.diff(new.objective_) >= -1e-12)


def test_adversarial_workers_get_negative_ability() -> None:
    """Newton steps cross alpha = 0: a worker who always answers wrong ends up below it."""
    truth = {f"i{i}": "xy"[i % 2] for i in range(40)}
    rows = [(item, worker, label) for item, label in truth.items() for worker in ("g1", "g2", "g3")]
    rows += [(item, "bad", "y" if label == "x" else "x") for item, label in truth.items()]
    items, workers, labels = (list(column) for column in zip(*rows, strict=True))
    model = GLAD().fit(items, workers, labels)
    assert model.labels_ == truth
    ability = dict(zip(model.workers_.tolist(), model.abilities_.tolist(), strict=True))
    assert ability["bad"] < 0 < min(ability["g1"], ability["g2"], ability["g3"])
