"""An equal-budget random control for a learning curve.

A selection strategy's learning curve says how accurate a model became with ``b``
labelled items. The question it answers is "better than what?": the control trains
the same model on the same number of items drawn *uniformly at random* from the pool
the strategy chose from, at every budget of the strategy's curve.

Each step of the curve names its budget (the items the strategy's model trained on),
the hand-labelled seed items in it (the control keeps them: they were not chosen by the
strategy) and how many pool items had arrived by then (a prefix of the pool, in arrival
order). The control then draws ``budget - len(seed)`` of those items without
replacement. A drawn item that people labelled keeps its label; one nobody labelled
gets a label from ``simulate`` (a simulation's crowd), and every point counts how many
of its labels were simulated, so that a report can say so.

Draws are nested, like a random labeller who keeps labelling: draw ``d`` gives every
pool item a uniform key from ``numpy.random.default_rng([random_state, d])`` and each
step takes the smallest keys among the items that had arrived, which is a uniform
sample of them. A simulated label is drawn once per item and draw
(``default_rng([random_state, d, index])``), so an item keeps its label as the budget
grows. Everything is determined by ``random_state``.

>>> steps = [ControlStep(budget=2, available=4), ControlStep(budget=4, available=4)]
>>> points = random_control(
...     ["a1", "a2", "b1", "b2"], ["a", "a", "b", None], steps,
...     score=lambda texts, labels: len(set(labels)) / 2,
...     simulate=lambda index, rng: "b", draws=3, random_state=1)
>>> [(p.budget, p.n_items) for p in points]
[(2, 2), (4, 4)]
>>> points[1].scores, points[1].simulated
((1.0, 1.0, 1.0), 1.0)
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from loupe.errors import InvalidInput

__all__ = ["ControlDraws", "ControlStep", "Scorer", "Simulator", "random_control"]

Scorer = Callable[[Sequence[str], Sequence[str]], float | None]
"""Fit on ``(texts, labels)`` and score the fit (``None``: nothing to score, e.g. one class)."""

Simulator = Callable[[int, np.random.Generator], str]
"""A simulated label for the pool item at ``index``, drawn with the generator given."""


@dataclass(frozen=True, slots=True)
class ControlStep:
    """One point of the strategy's curve: its budget, seed items and the pool then."""

    budget: int
    available: int
    seed: tuple[int, ...] = ()  # indices into the seed lists


@dataclass(frozen=True, slots=True)
class ControlDraws:
    """The control at one budget: a score per draw and the labels it had to simulate."""

    budget: int  # the strategy's
    n_items: int  # the control's: the budget, unless the pool held fewer items
    scores: tuple[float, ...]  # one per draw that could be scored
    simulated: float  # mean number of simulated labels per draw

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def sd(self) -> float | None:
        """Sample standard deviation across draws (0 for a single draw)."""
        if not self.scores:
            return None
        return statistics.stdev(self.scores) if len(self.scores) > 1 else 0.0


def random_control(
    pool_texts: Sequence[str],
    pool_labels: Sequence[str | None],
    steps: Sequence[ControlStep],
    *,
    score: Scorer,
    seed_texts: Sequence[str] = (),
    seed_labels: Sequence[str] = (),
    simulate: Simulator | None = None,
    draws: int = 5,
    random_state: int = 0,
) -> list[ControlDraws]:
    """The control at every step: ``draws`` uniform samples of the budget each.

    ``pool_labels[i]`` is the people's label of pool item ``i`` (``None``: nobody labelled
    it, and ``simulate`` labels it, or the call fails when there is no ``simulate``).
    """
    if len(pool_texts) != len(pool_labels) or len(seed_texts) != len(seed_labels):
        raise InvalidInput("texts and labels must pair up", details={"field": "labels"})
    if draws < 1:
        raise InvalidInput("draws must be at least 1", details={"field": "draws"})
    size = len(pool_texts)
    keys = [np.random.default_rng([random_state, d]).random(size) for d in range(draws)]
    simulated: list[dict[int, str]] = [{} for _ in range(draws)]

    def label(draw: int, index: int) -> tuple[str, bool]:
        known = pool_labels[index]
        if known is not None:
            return known, False
        if simulate is None:
            raise InvalidInput(
                "a randomly drawn item has no label and no simulator was given",
                details={"field": "simulate"},
            )
        memo = simulated[draw]
        if index not in memo:
            memo[index] = simulate(index, np.random.default_rng([random_state, draw, index]))
        return memo[index], True

    points = []
    for step in steps:
        available = min(max(step.available, 0), size)
        wanted = max(step.budget - len(step.seed), 0)
        scores: list[float] = []
        n_simulated = 0
        scored: dict[tuple[tuple[str, ...], tuple[str, ...]], float | None] = {}
        for draw in range(draws):
            # The smallest keys among the items that had arrived: a uniform sample.
            order = np.argsort(keys[draw][:available], kind="stable")[:wanted]
            texts = [seed_texts[i] for i in step.seed]
            labels = [seed_labels[i] for i in step.seed]
            for index in sorted(int(i) for i in order):
                answer, was_simulated = label(draw, index)
                texts.append(pool_texts[index])
                labels.append(answer)
                n_simulated += was_simulated
            # Identical training sets (a budget of seed items only, or the whole pool
            # with people's labels) score the same: fit them once.
            key = (tuple(texts), tuple(labels))
            if key not in scored:
                scored[key] = score(texts, labels)
            result = scored[key]
            if result is not None:
                scores.append(float(result))
        points.append(
            ControlDraws(
                budget=step.budget,
                n_items=len(step.seed) + min(wanted, available),
                scores=tuple(scores),
                simulated=n_simulated / draws,
            )
        )
    return points
