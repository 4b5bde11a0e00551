"""SIMULATED annotators for replay experiments — not people, and not for production.

Each simulated annotator has an accuracy drawn uniformly from a range; asked
about an item, it gives the true label with that probability and otherwise a
label drawn uniformly from the other classes (the "one-coin" model of
Dawid & Skene 1979). Their votes are then combined by :func:`aggregate_votes`.

>>> import numpy as np
>>> pool = SimulatedAnnotators.draw(3, accuracy=(1.0, 1.0), rng=np.random.default_rng(0))
>>> pool.annotate(np.array([2, 0]), n_classes=3, rng=np.random.default_rng(1)).tolist()
[[2, 2, 2], [0, 0, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput

__all__ = ["SimulatedAnnotators", "aggregate_votes", "estimate_accuracies"]

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class SimulatedAnnotators:
    """A fixed panel of simulated annotators; every item is labelled by all of them."""

    accuracies: Floats

    @classmethod
    def draw(
        cls, n: int, *, accuracy: tuple[float, float], rng: np.random.Generator
    ) -> SimulatedAnnotators:
        """``n`` annotators with accuracies uniform in ``accuracy = (low, high)``."""
        low, high = accuracy
        if n < 1:
            raise InvalidInput("need at least one simulated annotator", details={"field": "n"})
        if not 0.0 <= low <= high <= 1.0:
            raise InvalidInput(
                f"annotator accuracy range must satisfy 0 <= low <= high <= 1; got {low}:{high}",
                details={"field": "accuracy"},
            )
        return cls(np.asarray(rng.uniform(low, high, size=n), dtype=np.float64))

    @property
    def size(self) -> int:
        """Number of annotators."""
        return int(self.accuracies.size)

    def annotate(self, truth: Ints, *, n_classes: int, rng: np.random.Generator) -> Ints:
        """``(len(truth), size)`` simulated labels (class indices)."""
        t = np.asarray(truth, dtype=np.int64)
        if n_classes < 2:
            raise InvalidInput("simulated annotators need at least 2 classes")
        right = rng.random((t.size, self.size)) < self.accuracies[None, :]
        # A wrong answer is uniform over the n_classes - 1 other classes.
        offset = rng.integers(1, n_classes, size=(t.size, self.size))
        wrong = (t[:, None] + offset) % n_classes
        return np.where(right, t[:, None], wrong).astype(np.int64)


def estimate_accuracies(votes: Ints, *, n_classes: int, iterations: int = 20) -> Floats:
    """One-coin EM estimate of each annotator's accuracy from their agreement alone.

    Starts from majority vote; each iteration weighs votes by the current
    accuracies and re-estimates accuracy as agreement with the weighted consensus.
    """
    v = np.asarray(votes, dtype=np.int64)
    accuracies = np.full(v.shape[1], 0.8)
    for _ in range(iterations):
        posterior = _posterior(v, n_classes, accuracies, None)
        agree = posterior[np.arange(v.shape[0])[:, None], v]
        accuracies = np.clip(agree.mean(axis=0), 1e-3, 1 - 1e-3)
    return np.asarray(accuracies, dtype=np.float64)


def _posterior(votes: Ints, n_classes: int, accuracies: Floats, prior: Floats | None) -> Floats:
    n_items, n_workers = votes.shape
    log_right = np.log(accuracies)
    log_wrong = np.log((1.0 - accuracies) / (n_classes - 1))
    logp = np.zeros((n_items, n_classes)) + log_wrong.sum()
    rows = np.repeat(np.arange(n_items), n_workers)
    np.add.at(logp, (rows, votes.ravel()), np.tile(log_right - log_wrong, n_items))
    if prior is not None:
        logp += np.log(np.clip(prior, 1e-12, 1.0))
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def aggregate_votes(
    votes: Ints,
    *,
    n_classes: int,
    rng: np.random.Generator,
    accuracies: Floats | None = None,
    prior: Floats | None = None,
    prior_weight: float = 0.9,
) -> Ints:
    """One label per item from ``(n_items, n_annotators)`` votes.

    Without ``accuracies``: majority vote, ties broken at random. With them:
    the one-coin posterior mode, i.e. votes weighted by
    ``log(acc * (K - 1) / (1 - acc))`` — ties then go to the better annotator.
    ``prior`` (``(n_items, K)``, e.g. the model's probabilities before it saw
    the votes) multiplies in as a prior over the true class, first mixed with
    the uniform distribution (``prior_weight * prior + (1 - prior_weight) / K``)
    so that no class is ever more than ``~K * prior_weight / (1 - prior_weight)``
    times likelier than another a priori: the model settles the three-way splits
    that votes alone cannot; with ``prior_weight=0.5`` it can never overturn two
    agreeing annotators of equal skill, with the default 0.9 only when it is
    near-certain.
    """
    v = np.asarray(votes, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] == 0:
        raise InvalidInput("votes must be a 2-D array with at least one annotator")
    if prior is not None and np.shape(prior) != (v.shape[0], n_classes):
        raise InvalidInput("prior must have one row of n_classes probabilities per item")
    if not 0.0 <= prior_weight < 1.0:
        raise InvalidInput("prior_weight must be in [0, 1)", details={"field": "prior_weight"})
    if accuracies is None and prior is not None:
        raise InvalidInput("a prior needs annotator accuracies (one-coin aggregation)")
    if accuracies is None:
        counts = np.zeros((v.shape[0], n_classes))
        np.add.at(counts, (np.repeat(np.arange(v.shape[0]), v.shape[1]), v.ravel()), 1.0)
        score = counts + rng.random(counts.shape) * 0.5  # jitter < 1 only breaks ties
    else:
        tempered = (
            None
            if prior is None
            else prior_weight * np.asarray(prior, dtype=np.float64)
            + (1.0 - prior_weight) / n_classes
        )
        score = _posterior(v, n_classes, np.clip(accuracies, 1e-3, 1 - 1e-3), tempered)
        score = score + rng.random(score.shape) * 1e-9
    return np.asarray(score.argmax(axis=1), dtype=np.int64)
