"""SIMULATED annotators in place of a replay's oracle — not people, and not for production.

A replay hides a dataset's labels and reveals them when the loop asks. The
noise-free oracle reveals the true label; :class:`NoisyOracle` asks a panel of
simulated annotators (:mod:`loupe.simulation.annotators`) instead, batch after
batch, and keeps every vote. After each batch it re-estimates the annotators'
accuracies by one-coin EM over all the votes so far and re-aggregates every item
asked about, so an early item's label can change once its annotators are better
known. Any learner can use it: the TF-IDF replay (:func:`loupe.simulation.replay`)
and the sentence-embedding benchmark share this one implementation.

With ``max_annotators`` above ``annotators`` the overlap is dynamic, as in the
product: the panel has ``max_annotators`` annotators, each item is first
answered by ``annotators`` of them (chosen at random), and only items whose
posterior (votes, annotator accuracies estimated on the earlier batches — 0.8
before any — and the model prior) stays below ``overlap_target`` get more
answers, one at a time (:func:`~loupe.simulation.annotators.ask_until_confident`).

``prior`` is the model's ``(n_items, n_classes)`` probabilities for the batch,
computed before it saw the votes; with ``model_prior`` it enters the one-coin
posterior mixed with the uniform distribution (``prior_weight``).

>>> import numpy as np
>>> oracle = NoisyOracle(n_classes=3, annotator_accuracy=(1.0, 1.0),
...                      rng=np.random.default_rng(0))
>>> items, labels = oracle.answer(np.array([7, 9]), truth=np.array([2, 0]),
...                               prior=np.full((2, 3), 1 / 3))
>>> items.tolist(), labels.tolist(), oracle.annotations_
([7, 9], [2, 0], 6)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.simulation.annotators import (
    NOT_ASKED,
    SimulatedAnnotators,
    aggregate_votes,
    ask_until_confident,
    estimate_accuracies,
)

__all__ = ["Aggregation", "NoisyOracle"]

Aggregation = Literal["majority", "one-coin"]
Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


class NoisyOracle:
    """A panel of SIMULATED annotators that labels batches of items, with their votes kept.

    ``answer(items, truth=..., prior=...)`` simulates the panel's answers to a
    new batch and returns every item asked about so far with its current
    aggregated label. ``annotations_`` counts the answers given,
    ``panel_`` is the panel (its true accuracies, which the oracle never reads).
    Everything random comes from ``rng``, in a fixed order, so the same ``rng``
    seed and the same batches give the same labels.
    """

    def __init__(
        self,
        *,
        n_classes: int,
        rng: np.random.Generator,
        annotators: int = 3,
        max_annotators: int = 0,
        overlap_target: float = 0.95,
        annotator_accuracy: tuple[float, float] = (0.6, 0.95),
        aggregation: Aggregation = "one-coin",
        model_prior: bool = True,
        prior_weight: float = 0.9,
    ) -> None:
        if annotators < 1:
            raise InvalidInput(
                "a noisy oracle needs annotators >= 1", details={"field": "annotators"}
            )
        if max_annotators and max_annotators < annotators:
            raise InvalidInput(
                "max_annotators must be 0 (fixed overlap) or >= annotators",
                details={"field": "max_annotators"},
            )
        self.n_classes = n_classes
        self.annotators = annotators
        self.max_annotators = max_annotators
        self.overlap_target = overlap_target
        self.aggregation: Aggregation = aggregation
        self.model_prior = model_prior
        self.prior_weight = prior_weight
        self._rng = rng
        self.panel_ = SimulatedAnnotators.draw(
            max(annotators, max_annotators), accuracy=annotator_accuracy, rng=rng
        )
        self.annotations_ = 0
        self._votes: list[Ints] = []
        self._items: list[Ints] = []
        self._priors: list[Floats] = []

    @property
    def dynamic_overlap(self) -> bool:
        """Whether unsure items get answers beyond the first ``annotators``."""
        return self.max_annotators > self.annotators

    def answer(self, items: Ints, *, truth: Ints, prior: Floats) -> tuple[Ints, Ints]:
        """Ask the panel about ``items`` (true classes ``truth``, hidden from the aggregation).

        Returns every item asked about so far, in the order asked, and its label
        from all the votes so far.
        """
        n_classes = self.n_classes
        ballot = self.panel_.annotate(truth, n_classes=n_classes, rng=self._rng)
        if self.dynamic_overlap:
            known = (
                estimate_accuracies(np.concatenate(self._votes), n_classes=n_classes)
                if self._votes
                else np.full(self.panel_.size, 0.8)  # no answers yet: a neutral guess
            )
            ballot = ask_until_confident(
                ballot,
                n_classes=n_classes,
                initial=self.annotators,
                maximum=self.max_annotators,
                target=self.overlap_target,
                accuracies=known,
                rng=self._rng,
                prior=prior if self.model_prior else None,
                prior_weight=self.prior_weight,
            )
        self._votes.append(ballot)
        self._items.append(np.asarray(items, dtype=np.int64))
        self._priors.append(np.asarray(prior, dtype=np.float64))
        self.annotations_ += int(np.count_nonzero(ballot != NOT_ASKED))
        votes = np.concatenate(self._votes)
        one_coin = self.aggregation == "one-coin"
        labels = aggregate_votes(
            votes,
            n_classes=n_classes,
            rng=self._rng,
            accuracies=estimate_accuracies(votes, n_classes=n_classes) if one_coin else None,
            prior=np.concatenate(self._priors) if self.model_prior and one_coin else None,
            prior_weight=self.prior_weight,
        )
        return np.concatenate(self._items), labels
