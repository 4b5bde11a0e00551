"""Replay a labelled dataset through the labelling loop, to measure a selection strategy.

The dataset's labels are hidden and revealed only when the loop "asks" for
them: a seed set of ``seed_per_class`` items per class (what a project owner
would write by hand), then rounds of

    train on what is labelled -> evaluate on the test set -> score the pool ->
    select a batch (:func:`loupe.selection.select_batch`) -> SIMULATED annotators
    label it -> aggregate their votes -> add it to the training set

until ``budget`` items are labelled or the pool is empty. A batch holds
``max(batch_size, batch_growth x labelled so far)`` items: small batches while
the model changes fast, larger ones later. ``density_weight`` (beta) weighs the
uncertainty scores by each pool item's information density to the power beta
(:func:`loupe.selection.knn_density`, computed once: the pool does not change).
With ``annotators=0``
the hidden label is revealed exactly (a noise-free oracle); otherwise each item
is labelled by every one of ``annotators`` simulated annotators
(:mod:`loupe.simulation.annotators`); their votes are combined by the one-coin
model (annotator accuracies estimated by EM from agreement), with the model's
own probabilities for the item, computed before it saw the votes, as the prior
(``model_prior``), or by plain majority vote. With ``max_annotators`` above
``annotators`` the overlap is dynamic, as in the product: the panel has
``max_annotators`` simulated annotators, each item is first answered by
``annotators`` of them (chosen at random), and only items whose posterior (votes,
annotator accuracies estimated on the earlier batches, and the model prior) stays
below ``overlap_target`` get more answers, one at a time, up to ``max_annotators``
(:func:`~loupe.simulation.annotators.ask_until_confident`). The annotators, their
votes and the aggregation are a :class:`~loupe.simulation.noisy_oracle.NoisyOracle`,
which other learners' benchmarks use too. Everything random comes from ``seed``.

>>> from loupe.simulation.datasets import LabelledTexts
>>> texts = tuple(f"{w} {i}" for w in ("alpha", "beta") for i in range(10))
>>> data = LabelledTexts(texts, tuple(t.split()[0] for t in texts))
>>> curve = replay(data, data, ReplayConfig(batch_size=4, budget=10))
>>> [r.labels_used for r in curve.rounds]
[2, 6, 10]
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.learning.evaluation import Evaluation, evaluate
from loupe.learning.text import LinearTextTrainer, TfidfFeaturizer
from loupe.selection.density import knn_density
from loupe.selection.diversity import DiversityMethod
from loupe.selection.mixer import select_batch
from loupe.selection.strategies import STRATEGIES, Pool
from loupe.simulation.datasets import LabelledTexts
from loupe.simulation.noisy_oracle import Aggregation, NoisyOracle

__all__ = ["Aggregation", "LearningCurve", "ReplayConfig", "RoundResult", "replay"]


@dataclass(frozen=True)
class ReplayConfig:
    """Everything that defines one replay run (recorded in the output's ``meta``)."""

    strategy: Mapping[str, float] = field(default_factory=lambda: {"margin": 1.0})
    seed_per_class: int = 1
    batch_size: int = 150
    batch_growth: float = 0.0
    budget: int = 4500
    annotators: int = 0
    max_annotators: int = 0
    overlap_target: float = 0.95
    annotator_accuracy: tuple[float, float] = (0.6, 0.95)
    aggregation: Aggregation = "one-coin"
    model_prior: bool = True
    prior_weight: float = 0.9
    audit_share: float = 0.0
    diversity: float = 1.0
    diversity_method: DiversityMethod = "badge"
    density_weight: float = 0.0
    density_neighbours: int = 10
    c: float = 1.0
    temperature: float = 7.0
    oos_label: str = "oos"
    oos_threshold: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.strategy) - set(STRATEGIES))
        if unknown or not self.strategy:
            raise InvalidInput(
                f"unknown strategy {unknown}; choose from {sorted(STRATEGIES)}",
                details={"field": "strategy", "allowed": sorted(STRATEGIES)},
            )
        for name in ("seed_per_class", "batch_size", "budget"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be >= 1", details={"field": name})
        if self.density_weight < 0 or self.density_neighbours < 1:
            raise InvalidInput(
                "density_weight must be >= 0 and density_neighbours >= 1",
                details={"field": "density_weight"},
            )
        if self.batch_growth < 0:
            raise InvalidInput("batch_growth must be >= 0", details={"field": "batch_growth"})
        if self.annotators < 0:
            raise InvalidInput("annotators must be >= 0", details={"field": "annotators"})
        if self.max_annotators and self.max_annotators < self.annotators:
            raise InvalidInput(
                "max_annotators must be 0 (fixed overlap) or >= annotators",
                details={"field": "max_annotators"},
            )
        if not 0.0 < self.overlap_target <= 1.0:
            raise InvalidInput(
                "overlap_target must be in (0, 1]", details={"field": "overlap_target"}
            )

    @property
    def panel_size(self) -> int:
        """Simulated annotators in the panel (0 for the noise-free oracle)."""
        return max(self.annotators, self.max_annotators) if self.annotators else 0

    @property
    def dynamic_overlap(self) -> bool:
        """Whether unsure items get answers beyond the first ``annotators``."""
        return self.annotators > 0 and self.max_annotators > self.annotators


@dataclass(frozen=True)
class RoundResult:
    """One point of the learning curve."""

    round: int
    labels_used: int
    annotations: int
    label_accuracy: float
    evaluation: Evaluation
    seconds: float


@dataclass(frozen=True)
class LearningCurve:
    """The rounds of one replay, plus what produced them."""

    config: ReplayConfig
    rounds: tuple[RoundResult, ...]
    classes: tuple[str, ...]
    annotator_accuracies: tuple[float, ...]

    def labels_to_reach(
        self, accuracy: float, *, metric: str = "in_scope_accuracy"
    ) -> float | None:
        """Labels at which the curve first reaches ``accuracy`` (linear interpolation)."""
        previous: tuple[int, float] | None = None
        for r in self.rounds:
            value: float | None = getattr(r.evaluation, metric)
            if value is None:
                return None
            if value >= accuracy:
                if previous is None or previous[1] >= value:
                    return float(r.labels_used)
                x0, y0 = previous
                return x0 + (accuracy - y0) * (r.labels_used - x0) / (value - y0)
            previous = (r.labels_used, value)
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``meta`` and ``rounds``."""
        config = asdict(self.config)
        config["strategy"] = dict(self.config.strategy)
        simulated = self.config.annotators > 0
        return {
            "meta": {
                "kind": "loupe replay simulation",
                "annotators": {
                    "simulated": True,
                    "note": (
                        "labels come from SIMULATED annotators (one-coin noise model), not people"
                        if simulated
                        else "noise-free oracle: the dataset's own labels, no annotators"
                    ),
                    "count": self.config.annotators,
                    "accuracies": list(self.annotator_accuracies),
                },
                "config": config,
                "n_classes": len(self.classes),
            },
            "rounds": [
                {
                    "round": r.round,
                    "labels_used": r.labels_used,
                    "annotations": r.annotations,
                    "label_accuracy": r.label_accuracy,
                    "seconds": r.seconds,
                    **r.evaluation.as_dict(),
                }
                for r in self.rounds
            ],
        }


def _seed_indices(
    y: NDArray[np.int64], n_classes: int, per_class: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    chosen = [
        rng.choice(members, size=min(per_class, members.size), replace=False)
        for k in range(n_classes)
        if (members := np.flatnonzero(y == k)).size
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def replay(train: LabelledTexts, test: LabelledTexts, config: ReplayConfig) -> LearningCurve:
    """Run the loop over ``train`` (the pool, labels hidden), evaluating on ``test``."""
    if len(train) == 0 or len(test) == 0:
        raise InvalidInput("train and test must both have rows")
    # Independent streams: the seed set, the annotators and the selections do not
    # shift one another, so a noisy run and its noise-free twin start identically.
    seed_rng, annotator_rng, select_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)
    )
    classes = tuple(sorted(set(train.labels)))
    if len(classes) < 2:
        raise InvalidInput("the training file needs at least 2 labels to learn from")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in train.labels], dtype=np.int64)
    featurizer = TfidfFeaturizer().fit(train.texts)
    x_pool = featurizer.transform(train.texts)
    x_test = featurizer.transform(test.texts)
    # The pool is known from the start: how typical each item is never changes.
    density = (
        knn_density(x_pool, k=config.density_neighbours) if config.density_weight > 0 else None
    )
    trainer = LinearTextTrainer(c=config.c, temperature=config.temperature, featurizer=featurizer)
    oracle = (
        NoisyOracle(
            n_classes=len(classes),
            rng=annotator_rng,
            annotators=config.annotators,
            max_annotators=config.max_annotators,
            overlap_target=config.overlap_target,
            annotator_accuracy=config.annotator_accuracy,
            aggregation=config.aggregation,
            model_prior=config.model_prior,
            prior_weight=config.prior_weight,
        )
        if config.annotators
        else None
    )
    labelled = _seed_indices(y, len(classes), config.seed_per_class, seed_rng)
    given = np.full(y.size, -1, dtype=np.int64)
    given[labelled] = y[labelled]  # the seed set is written by the project owner: exact
    rounds: list[RoundResult] = []
    annotations = 0
    while True:
        start = time.perf_counter()
        spent = annotations
        model = trainer.fit_matrix(
            x_pool[labelled], [classes[k] for k in given[labelled]], featurizer=featurizer
        )
        metrics = evaluate(
            test.labels,
            model.predict_proba_matrix(x_test),
            model.classes_,
            threshold=config.oos_threshold,
            oos_label=config.oos_label,
        )
        done = labelled.size >= min(config.budget, y.size)
        if not done:
            unlabelled = np.setdiff1d(np.arange(y.size), labelled)
            probs = _full_width(
                model.predict_proba_matrix(x_pool[unlabelled]), model.classes_, index
            )
            batch = select_batch(
                Pool(
                    probabilities=probs,
                    features=x_pool[unlabelled],
                    labelled_features=x_pool[labelled],
                    density=None if density is None else density[unlabelled],
                ),
                mix=config.strategy,
                batch_size=max(config.batch_size, int(config.batch_growth * labelled.size)),
                budget_left=config.budget - labelled.size,
                audit_share=config.audit_share,
                diversity=config.diversity,
                diversity_method=config.diversity_method,
                density_weight=config.density_weight,
                rng=select_rng,
            )
            new = unlabelled[batch.indices]
            if oracle is None:
                given[new] = y[new]
            else:
                asked, labels = oracle.answer(new, truth=y[new], prior=probs[batch.indices])
                given[asked] = labels
                annotations = oracle.annotations_
        rounds.append(
            RoundResult(
                round=len(rounds),
                labels_used=int(labelled.size),
                annotations=spent,
                label_accuracy=float(np.mean(given[labelled] == y[labelled])),
                evaluation=metrics,
                seconds=round(time.perf_counter() - start, 3),
            )
        )
        if done:
            break
        labelled = np.sort(np.concatenate([labelled, new]))
    accuracies = () if oracle is None else tuple(float(a) for a in oracle.panel_.accuracies)
    return LearningCurve(config, tuple(rounds), classes, accuracies)


def _full_width(
    probs: NDArray[np.float64], model_classes: tuple[str, ...], index: Mapping[str, int]
) -> NDArray[np.float64]:
    # Noisy labels can leave a class unseen; selection needs every class's column.
    out = np.zeros((probs.shape[0], len(index)))
    out[:, [index[c] for c in model_classes]] = probs
    return out
