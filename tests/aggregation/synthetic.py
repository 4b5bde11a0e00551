"""Small seeded crowds with known truth, for the aggregation tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Crowd:
    items: list[str]
    workers: list[str]
    labels: list[str]
    truth: dict[str, str]


def make_crowd(
    seed: int,
    *,
    n_items: int = 40,
    n_workers: int = 8,
    per_item: int = 5,
    n_classes: int = 3,
    accuracy: tuple[float, float] = (0.55, 0.95),
) -> Crowd:
    """One-coin workers of uniform random accuracy; each item gets ``per_item`` workers."""
    rng = np.random.default_rng(seed)
    classes = [f"c{k}" for k in range(n_classes)]
    truth = rng.integers(n_classes, size=n_items)
    skill = rng.uniform(*accuracy, size=n_workers)
    items: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    for i in range(n_items):
        for w in rng.choice(n_workers, size=per_item, replace=False):
            right = rng.random() < skill[w]
            label = truth[i] if right else (truth[i] + rng.integers(1, n_classes)) % n_classes
            items.append(f"item{i}")
            workers.append(f"worker{w}")
            labels.append(classes[label])
    return Crowd(items, workers, labels, {f"item{i}": classes[t] for i, t in enumerate(truth)})


def accuracy(predicted: dict[object, object], truth: dict[str, str]) -> float:
    return sum(predicted[item] == label for item, label in truth.items()) / len(truth)
