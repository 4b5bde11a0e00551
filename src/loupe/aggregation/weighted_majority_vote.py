"""Weighted majority vote: votes weighted by a known per-worker weight (e.g. reputation)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.checks import check_positive
from loupe.aggregation.majority_vote import posterior_agreement, vote_proportions
from loupe.aggregation.table import FloatArray, IntArray, LabelTable
from loupe.errors import InvalidInput

__all__ = ["WeightedMajorityVote"]


class WeightedMajorityVote(Aggregator):
    """Majority vote with fixed, non-negative worker weights.

    :math:`p(z_i = k) \\propto \\sum_{(w, l) \\in i} v_w [l = k]`, where :math:`v_w` is
    ``weights[w]`` (e.g. a reputation score) or ``default_weight`` for a worker not in
    ``weights``. The weights are inputs, not learned; an item whose answers all weigh 0 gets the
    uniform distribution. With log-odds weights :math:`v_w = \\log\\frac{(K-1)p_w}{1-p_w}` this is
    the Bayes-optimal rule for independent one-coin workers of known accuracy :math:`p_w`
    (Nitzan and Paroush, "Optimal Decision Rules in Uncertain Dichotomous Choice Situations",
    *International Economic Review* 23(2), 1982). ``skills_`` as in :class:`MajorityVote`.

    >>> wmv = WeightedMajorityVote(weights={"expert": 3.0})
    >>> wmv.fit_predict(["a", "a", "a"], ["expert", "w2", "w3"], ["x", "y", "y"])
    {'a': 'x'}
    """

    def __init__(
        self,
        weights: Mapping[Any, float] | None = None,
        *,
        default_weight: float = 1.0,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.weights = weights
        self.default_weight = default_weight
        self.classes = classes
        self.random_state = random_state

    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        check_positive(self.default_weight, "default_weight", allow_zero=True)
        given = dict(self.weights or {})
        worker_weights = np.array(
            [float(given.get(worker, self.default_weight)) for worker in table.workers.tolist()],
            dtype=np.float64,
        )
        bad = ~np.isfinite(worker_weights) | (worker_weights < 0)
        if bad.any():
            worker = table.workers[int(np.argmax(bad))]
            raise InvalidInput(
                f"worker weights must be finite and >= 0; worker {worker!r} has "
                f"{worker_weights[bad][0]!r}",
                details={"worker": repr(worker)},
            )
        probas = vote_proportions(table, worker_weights)
        if len(gold_rows):
            probas[gold_rows] = 0.0
            probas[gold_rows, gold_codes] = 1.0
        return probas, posterior_agreement(table, probas)
