"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.table import FloatArray, IntArray, LabelTable

__all__ = ["MajorityVote", "posterior_agreement", "vote_proportions"]


def vote_proportions(table: LabelTable, worker_weights: FloatArray | None = None) -> FloatArray:
    """Item x class share of (optionally weighted) votes; rows sum to 1.

    An item whose every answer has weight 0 gets the uniform distribution.
    """
    weights = table.weights
    if worker_weights is not None:
        weights = weights * worker_weights[table.worker_codes]
    flat = table.item_codes * table.n_classes + table.label_codes
    votes = np.bincount(flat, weights=weights, minlength=table.n_items * table.n_classes)
    votes = votes.reshape(table.n_items, table.n_classes)
    totals = votes.sum(axis=1, keepdims=True)
    uniform = np.full_like(votes, 1.0 / table.n_classes)
    return np.asarray(np.divide(votes, totals, out=uniform, where=totals > 0), dtype=np.float64)


def posterior_agreement(table: LabelTable, probas: FloatArray) -> FloatArray:
    """Per worker, the expected share of answers equal to the true class under ``probas``.

    :math:`s_w = \\sum_{(i, l) \\in w} T_{il} / n_w` — an accuracy-like skill for models without
    an explicit worker-accuracy parameter.
    """
    hits = probas[table.item_codes, table.label_codes] * table.weights
    agree = np.bincount(table.worker_codes, weights=hits, minlength=table.n_workers)
    return np.asarray(agree / table.worker_totals(), dtype=np.float64)


class MajorityVote(Aggregator):
    """Majority vote: the class chosen by most answers wins.

    :math:`\\hat z_i = \\arg\\max_k \\sum_{(w, l) \\in i} [l = k]`; ``probas_`` are the vote shares
    and ties are broken uniformly at random with ``random_state``. Every answer counts, so a
    worker who answered an item twice votes twice. ``skills_[w]`` is the expected share of
    ``w``'s answers that match the vote (:func:`posterior_agreement`).

    The baseline of every crowdsourcing study; see e.g. Sheng, Provost and Ipeirotis, "Get
    Another Label?", KDD 2008.

    >>> mv = MajorityVote().fit(["a", "a", "a", "b"], ["w1", "w2", "w3", "w1"], [1, 1, 0, 0])
    >>> mv.labels_
    {'a': 1, 'b': 0}
    >>> mv.probas_.round(3).tolist()
    [[0.333, 0.667], [1.0, 0.0]]
    """

    def __init__(
        self,
        *,
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.classes = classes
        self.random_state = random_state

    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        probas = vote_proportions(table)
        if len(gold_rows):
            probas[gold_rows] = 0.0
            probas[gold_rows, gold_codes] = 1.0
        return probas, posterior_agreement(table, probas)
