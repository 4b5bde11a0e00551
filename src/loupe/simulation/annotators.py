"""SIMULATED annotators for replay experiments — not people, and not for production.

Each simulated annotator has an accuracy drawn uniformly from a range; asked
about an item, it gives the true label with that probability and otherwise a
label drawn uniformly from the other classes (the "one-coin" model of
Dawid & Skene 1979). Their votes are then combined by :func:`aggregate_votes`.

A vote matrix has one row per item and one column per annotator; ``-1``
(:data:`NOT_ASKED`) marks an annotator who was not asked about that item.
:func:`ask_until_confident` is dynamic overlap: every item gets a few votes, and
only items whose posterior is still unsure get more, up to a cap.

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

__all__ = [
    "NOT_ASKED",
    "SimulatedAnnotators",
    "aggregate_votes",
    "ask_until_confident",
    "estimate_accuracies",
    "posterior",
]

NOT_ASKED = -1
"""A vote-matrix entry for an annotator who gave no answer on that item."""

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
    accuracies and re-estimates accuracy as agreement with the weighted consensus,
    over the items each annotator answered (0.8, the starting guess, for one who
    answered none).
    """
    v = np.asarray(votes, dtype=np.int64)
    asked = v != NOT_ASKED
    answered = asked.sum(axis=0)
    accuracies = np.full(v.shape[1], 0.8)
    for _ in range(iterations):
        post = posterior(v, n_classes=n_classes, accuracies=accuracies)
        agree = np.where(asked, post[np.arange(v.shape[0])[:, None], np.maximum(v, 0)], 0.0)
        mean = np.divide(agree.sum(axis=0), answered, out=np.full(v.shape[1], 0.8),
                         where=answered > 0)  # fmt: skip
        accuracies = np.clip(mean, 1e-3, 1 - 1e-3)
    return np.asarray(accuracies, dtype=np.float64)


def posterior(
    votes: Ints, *, n_classes: int, accuracies: Floats, prior: Floats | None = None
) -> Floats:
    """``(n_items, K)`` one-coin posterior over the true class (Bayes' rule).

    ``log p(k) = log prior_k + sum over answers of (log acc if vote == k else
    log((1 - acc) / (K - 1)))``; :data:`NOT_ASKED` entries contribute nothing.
    """
    v = np.asarray(votes, dtype=np.int64)
    n_items = v.shape[0]
    acc = np.clip(np.asarray(accuracies, dtype=np.float64), 1e-3, 1 - 1e-3)
    asked = v != NOT_ASKED
    log_right = np.log(acc)
    log_wrong = np.log((1.0 - acc) / (n_classes - 1))
    logp = np.zeros((n_items, n_classes)) + (asked * log_wrong).sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(asked)
    np.add.at(logp, (rows, v[rows, cols]), (log_right - log_wrong)[cols])
    if prior is not None:
        logp += np.log(np.clip(prior, 1e-12, 1.0))
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def _tempered(prior: Floats | None, weight: float, n_classes: int) -> Floats | None:
    if prior is None:
        return None
    return weight * np.asarray(prior, dtype=np.float64) + (1.0 - weight) / n_classes


def ask_until_confident(
    answers: Ints,
    *,
    n_classes: int,
    initial: int,
    maximum: int,
    target: float,
    accuracies: Floats,
    rng: np.random.Generator,
    prior: Floats | None = None,
    prior_weight: float = 0.9,
) -> Ints:
    """Dynamic overlap: reveal ``initial`` answers per item, more only where unsure.

    ``answers`` holds every annotator's answer to every item (what each *would*
    say); each item asks its annotators in a random order, ``initial`` of them
    first, then one more at a time while its posterior's top class is below
    ``target`` (:func:`posterior`, with the tempered ``prior``), up to ``maximum``.
    Returns the revealed votes, :data:`NOT_ASKED` elsewhere.

    >>> answers = np.array([[0, 0, 0, 0], [0, 1, 2, 1]])
    >>> out = ask_until_confident(answers, n_classes=5, initial=2, maximum=4, target=0.9,
    ...                           accuracies=np.full(4, 0.8), rng=np.random.default_rng(0))
    >>> (out != NOT_ASKED).sum(axis=1).tolist()
    [2, 4]
    """
    a = np.asarray(answers, dtype=np.int64)
    n_items, n_workers = a.shape
    if not 1 <= initial <= maximum <= n_workers:
        raise InvalidInput(
            f"need 1 <= initial <= maximum <= annotators; got {initial}, {maximum}, {n_workers}",
            details={"field": "maximum"},
        )
    if not 0.0 < target <= 1.0:
        raise InvalidInput("target must be in (0, 1]", details={"field": "target"})
    order = np.argsort(rng.random((n_items, n_workers)), axis=1)
    rows = np.arange(n_items)
    revealed = np.full_like(a, NOT_ASKED)
    for j in range(initial):
        revealed[rows, order[:, j]] = a[rows, order[:, j]]
    tempered = _tempered(prior, prior_weight, n_classes)
    for j in range(initial, maximum):
        post = posterior(revealed, n_classes=n_classes, accuracies=accuracies, prior=tempered)
        unsure = np.flatnonzero(post.max(axis=1) < target - 1e-9)
        if unsure.size == 0:
            break
        revealed[unsure, order[unsure, j]] = a[unsure, order[unsure, j]]
    return revealed


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
    if v.shape[0] and not (v != NOT_ASKED).any(axis=1).all():
        raise InvalidInput("every item needs at least one vote")
    if prior is not None and np.shape(prior) != (v.shape[0], n_classes):
        raise InvalidInput("prior must have one row of n_classes probabilities per item")
    if not 0.0 <= prior_weight < 1.0:
        raise InvalidInput("prior_weight must be in [0, 1)", details={"field": "prior_weight"})
    if accuracies is None and prior is not None:
        raise InvalidInput("a prior needs annotator accuracies (one-coin aggregation)")
    if accuracies is None:
        counts = np.zeros((v.shape[0], n_classes))
        rows, cols = np.nonzero(v != NOT_ASKED)
        np.add.at(counts, (rows, v[rows, cols]), 1.0)
        score = counts + rng.random(counts.shape) * 0.5  # jitter < 1 only breaks ties
    else:
        tempered = _tempered(prior, prior_weight, n_classes)
        score = posterior(v, n_classes=n_classes, accuracies=accuracies, prior=tempered)
        score = score + rng.random(score.shape) * 1e-9
    return np.asarray(score.argmax(axis=1), dtype=np.int64)
