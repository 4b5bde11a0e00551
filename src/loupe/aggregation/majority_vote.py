"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np

from loupe.aggregation.base import Aggregator, RandomState, argmax_random_ties
from loupe.aggregation.table import FloatArray, IntArray, LabelTable
from loupe.errors import InvalidInput

__all__ = ["TIE_RULES", "MajorityVote", "TieRule", "posterior_agreement", "vote_proportions"]


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


TieRule = Literal["prior", "lowest", "random"]
"""How :class:`MajorityVote` picks among classes with equally many votes (see its docstring)."""

TIE_RULES: tuple[TieRule, ...] = ("prior", "lowest", "random")


class MajorityVote(Aggregator):
    """Majority vote: the class chosen by most answers wins.

    :math:`\\hat z_i = \\arg\\max_k \\sum_{(w, l) \\in i} [l = k]`; ``probas_`` are the vote shares.
    Every answer counts, so a worker who answered an item twice votes twice. ``skills_[w]`` is
    the expected share of ``w``'s answers that match the vote (:func:`posterior_agreement`).

    ``ties`` decides between classes with equally many votes (2-2 of 4 answers, 1-1-1 of 3):

    * ``"prior"`` (default, deterministic): the tied class with the larger estimated prior — the
      mean vote share over all items — then the lowest class in ``classes_`` (sorted) order.
      When workers are equally reliable, a tie carries no evidence, so the more common class is
      the better bet (on the skewed simulation of ``docs/benchmarks-aggregation.md`` it beat
      both other rules).
    * ``"lowest"``: the first tied class in ``classes_`` (sorted) order.
    * ``"random"``: uniformly at random with ``random_state`` (Loupe's rule before 2026-12).

    For comparison, crowd-kit 1.4.2's ``MajorityVote`` takes the first tied column of its vote
    table (``idxmax``); with pandas 3.1 that is the label seen first in the input rows, so its
    ties depend on row order. None of Loupe's rules does.

    The baseline of every crowdsourcing study; see e.g. Sheng, Provost and Ipeirotis, "Get
    Another Label?", KDD 2008.

    >>> mv = MajorityVote().fit(["a", "a", "a", "b"], ["w1", "w2", "w3", "w1"], [1, 1, 0, 0])
    >>> mv.labels_
    {'a': 1, 'b': 0}
    >>> mv.probas_.round(3).tolist()
    [[0.333, 0.667], [1.0, 0.0]]
    >>> tied = ["a", "a", "b", "c", "c"], ["w1", "w2", "w1", "w1", "w2"], ["x", "y", "y", "x", "y"]
    >>> MajorityVote(ties="prior").fit(*tied).labels_["a"]  # y has more votes overall
    'y'
    >>> MajorityVote(ties="lowest").fit(*tied).labels_["a"]
    'x'
    """

    def __init__(
        self,
        *,
        ties: TieRule = "prior",
        classes: Sequence[Hashable] | None = None,
        random_state: RandomState = None,
    ) -> None:
        if ties not in TIE_RULES:
            raise InvalidInput(
                f"ties must be one of {', '.join(TIE_RULES)}, got {ties!r}",
                details={"ties": ties, "allowed": list(TIE_RULES)},
            )
        self.ties = ties
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

    def _argmax(self, probas: FloatArray, rng: np.random.Generator) -> IntArray:
        if self.ties == "random" or probas.shape[1] == 0:
            return argmax_random_ties(probas, rng)
        # Among the classes within 1e-12 of the row maximum, the one with the best rank;
        # np.argmax returns the first (lowest) class among equal ranks.
        n_classes = probas.shape[1]
        rank = probas.mean(axis=0) if self.ties == "prior" else np.zeros(n_classes)
        tied = probas >= probas.max(axis=1, keepdims=True) - 1e-12
        return np.asarray(np.argmax(np.where(tied, rank, -np.inf), axis=1), dtype=np.intp)
