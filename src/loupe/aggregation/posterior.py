"""Live consensus: one item's posterior from known worker skills, and when to stop asking.

After each submission the service needs the item's current posterior without refitting a
model over the whole project. Given worker skill estimates from the last fit (full confusion
matrices, or one-coin accuracies, with a default for workers not seen yet), Bayes' rule over the
item's answers costs :math:`O(n_\\text{answers} \\cdot K)`:

.. math::

    p(z = k \\mid \\text{answers}) \\propto \\pi_k \\prod_{(w, l)} \\theta_{wkl},

with :math:`\\theta_{wkl} = p_w` if :math:`l = k` and :math:`(1 - p_w)/(K - 1)` otherwise for
one-coin workers. :class:`StoppingRule` turns the posterior into dynamic overlap: stop an item as
soon as it is confident enough, escalate it when the label budget runs out first.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from loupe.aggregation.base import Aggregator
from loupe.aggregation.dawid_skene import DawidSkene
from loupe.aggregation.table import FloatArray
from loupe.errors import InvalidInput

__all__ = ["Decision", "ItemPosterior", "StoppingRule", "WorkerSkills", "item_posterior"]

Decision = Literal["done", "needs_more", "escalate"]

_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class WorkerSkills:
    """What is known of each worker: a confusion matrix, else an accuracy, else a default.

    Attributes:
        classes: the label set, in the column order of ``prior`` and of every confusion matrix.
        prior: class prior :math:`\\pi` (uniform when ``None``).
        confusions: worker → ``K x K`` matrix indexed ``[true, given]`` (rows sum to 1).
        accuracies: worker → one-coin accuracy :math:`p_w`.
        default_accuracy: :math:`p_w` of a worker in neither mapping.
    """

    classes: tuple[Hashable, ...]
    prior: FloatArray | None = None
    confusions: Mapping[Any, FloatArray] = field(default_factory=dict)
    accuracies: Mapping[Any, float] = field(default_factory=dict)
    default_accuracy: float = 0.7

    def __post_init__(self) -> None:
        if not self.classes:
            raise InvalidInput("WorkerSkills needs at least one class")
        if not 0.0 < self.default_accuracy < 1.0:
            raise InvalidInput(
                f"default_accuracy must lie in (0, 1), got {self.default_accuracy!r}",
                details={"default_accuracy": self.default_accuracy},
            )
        K = len(self.classes)
        if self.prior is not None and np.shape(self.prior) != (K,):
            raise InvalidInput(f"prior must have one entry per class ({K})")
        for worker, matrix in self.confusions.items():
            if np.shape(matrix) != (K, K):
                raise InvalidInput(
                    f"confusion matrix of worker {worker!r} must be {K}x{K}",
                    details={"worker": repr(worker), "shape": list(np.shape(matrix))},
                )

    @classmethod
    def from_model(cls, model: Aggregator, *, default_accuracy: float = 0.7) -> WorkerSkills:
        """Skills from a fitted aggregator: DS confusion matrices, else its ``skills_``."""
        classes = tuple(model.classes_.tolist())
        prior: FloatArray | None = getattr(model, "priors_", None)
        if isinstance(model, DawidSkene):
            confusions = dict(zip(model.workers_.tolist(), model.confusions_, strict=True))
            return cls(classes, prior, confusions=confusions, default_accuracy=default_accuracy)
        return cls(
            classes, prior, accuracies=dict(model.skills_), default_accuracy=default_accuracy
        )

    def log_likelihoods(
        self, workers: Sequence[Hashable], labels: Sequence[Hashable]
    ) -> FloatArray:
        """``(n, K)`` matrix of :math:`\\log p(\\text{answer}_j \\mid z = k)`."""
        K = len(self.classes)
        index = {value: code for code, value in enumerate(self.classes)}
        out = np.zeros((len(labels), K))
        for row, (worker, label) in enumerate(zip(workers, labels, strict=True)):
            code = index.get(label)
            if code is None:
                raise InvalidInput(
                    f"label {label!r} is not one of the classes {list(self.classes)!r}",
                    details={"label": repr(label)},
                )
            matrix = self.confusions.get(worker)
            if matrix is not None:
                out[row] = np.log(np.clip(np.asarray(matrix)[:, code], _EPS, 1.0))
                continue
            if K == 1:
                continue
            accuracy = float(
                np.clip(self.accuracies.get(worker, self.default_accuracy), _EPS, 1 - _EPS)
            )
            out[row] = np.log((1.0 - accuracy) / (K - 1))
            out[row, code] = np.log(accuracy)
        return out


@dataclass(frozen=True, eq=False)
class ItemPosterior:
    """One item's posterior over ``classes`` after ``n_labels`` answers."""

    classes: tuple[Hashable, ...]
    probas: FloatArray
    n_labels: int

    @property
    def label(self) -> Hashable:
        """The most probable class (first in ``classes`` order on exact ties)."""
        return self.classes[int(np.argmax(self.probas))]

    @property
    def confidence(self) -> float:
        """Posterior probability of :attr:`label`."""
        return float(self.probas.max())


def item_posterior(
    skills: WorkerSkills, workers: Sequence[Hashable], labels: Sequence[Hashable]
) -> ItemPosterior:
    """Posterior over the classes for one item's answers (``workers[j]`` gave ``labels[j]``).

    >>> skills = WorkerSkills(("cat", "dog"), accuracies={"ann": 0.9}, default_accuracy=0.6)
    >>> post = item_posterior(skills, ["ann", "bob"], ["cat", "dog"])
    >>> post.label, round(post.confidence, 3)
    ('cat', 0.857)
    """
    if len(workers) != len(labels):
        raise InvalidInput(
            "workers and labels must have the same length",
            details={"workers": len(workers), "labels": len(labels)},
        )
    K = len(skills.classes)
    prior = np.full(K, 1.0 / K) if skills.prior is None else np.asarray(skills.prior, dtype=float)
    log_joint = np.log(np.clip(prior, _EPS, None)) + skills.log_likelihoods(workers, labels).sum(
        axis=0
    )
    # Normalised in log space (shift by the max), with NumPy alone: SciPy's logsumexp
    # would put a 0.2 s SciPy import on the first submit of every server.
    probas = np.exp(log_joint - log_joint.max())
    probas /= probas.sum()
    return ItemPosterior(classes=skills.classes, probas=probas, n_labels=len(labels))


@dataclass(frozen=True)
class StoppingRule:
    """Dynamic overlap: ask for labels until the item is confident, escalate at the cap.

    * ``"needs_more"`` — fewer than ``min_labels`` answers, or not yet confident;
    * ``"done"`` — at least ``min_labels`` answers and confidence ``>= target``;
    * ``"escalate"`` — ``max_labels`` answers reached without the target (send to an expert).

    >>> rule = StoppingRule(target=0.95, min_labels=2, max_labels=5)
    >>> skills = WorkerSkills(("cat", "dog"), default_accuracy=0.9)
    >>> rule.decide(item_posterior(skills, ["a"], ["cat"]))
    'needs_more'
    >>> rule.decide(item_posterior(skills, ["a", "b"], ["cat", "cat"]))
    'done'
    """

    target: float = 0.95
    min_labels: int = 1
    max_labels: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            raise InvalidInput(f"target must lie in (0, 1], got {self.target!r}")
        if not 1 <= self.min_labels <= self.max_labels:
            raise InvalidInput(
                "need 1 <= min_labels <= max_labels",
                details={"min_labels": self.min_labels, "max_labels": self.max_labels},
            )

    def decide(self, posterior: ItemPosterior) -> Decision:
        """What to do with the item now."""
        # A tolerance of a few ulps: 0.9 computed through log-space sums may be 0.8999...
        reached = posterior.confidence >= self.target - 1e-9
        if posterior.n_labels >= self.min_labels and reached:
            return "done"
        if posterior.n_labels >= self.max_labels:
            return "escalate"
        return "needs_more"
