"""A deterministic synthetic crowd of workers with random confusion matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class SyntheticCrowd:
    items: NDArray[np.int64]
    workers: NDArray[np.int64]
    labels: NDArray[np.int64]
    truth: NDArray[np.int64]


def generate(
    *,
    n_items: int = 200_000,
    per_item: int = 5,
    n_workers: int = 2_000,
    n_classes: int = 5,
    seed: int = 20240601,
) -> SyntheticCrowd:
    """Workers with random diagonal-heavy confusion matrices (accuracy ~U(0.5, 0.95))."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(n_classes, size=n_items)
    accuracy = rng.uniform(0.5, 0.95, size=n_workers)
    off = rng.dirichlet(np.ones(n_classes - 1), size=(n_workers, n_classes))
    items = np.repeat(np.arange(n_items), per_item)
    # Distinct workers per item: an offset walk modulo n_workers.
    start = rng.integers(n_workers, size=n_items)
    step = rng.integers(1, n_workers // per_item, size=n_items)
    workers = (start[:, None] + step[:, None] * np.arange(per_item)).reshape(-1) % n_workers
    true = truth[items]
    right = rng.random(len(items)) < accuracy[workers]
    cumulative = off[workers, true].cumsum(axis=1)
    draw = (rng.random(len(items))[:, None] > cumulative).sum(axis=1)
    draw = np.minimum(draw, n_classes - 2)
    wrong = np.where(draw >= true, draw + 1, draw)
    labels = np.where(right, true, wrong)
    return SyntheticCrowd(items=items, workers=workers, labels=labels, truth=truth)
