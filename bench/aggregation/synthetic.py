"""Deterministic synthetic crowds (a simulation, not real annotators) for the speed benchmarks.

Two generators:

* :func:`generate` — the easy crowd of the original Dawid-Skene speed benchmark: uniform class
  priors, every worker honest with a random diagonal-heavy confusion matrix (accuracy
  ~U(0.5, 0.95)), workers spread evenly over items, integer ids.
* :func:`generate_hard` — a harder, more realistic simulation with string ids:

  - **skewed class priors**: :math:`p(z = k) \\propto r^k` (``prior_ratio`` r = 0.6 gives
    0.43 / 0.26 / 0.15 / 0.09 / 0.06 for 5 classes);
  - **skill heterogeneity**: an honest worker is right with probability
    :math:`1/K + (1 - 1/K)\\,a`, :math:`a \\sim \\mathrm{Beta}(3, 1.5)` (mean accuracy ~0.73 for
    K = 5); a wrong answer is drawn from the worker's own random (Dirichlet(1)) row of confusion
    over the other classes, so mistakes are class-dependent;
  - **spammers**: a ``spammer_share`` of workers (default 20%) ignore the item: half answer
    uniformly at random, half always give one class of their own (drawn uniformly);
  - **skewed activity**: a worker is picked for an item with probability proportional to a
    log-normal(0, 1) activity, so some workers answer many items and many answer few;
    the ``per_item`` workers of an item are distinct;
  - **string ids**: items are random 16-hex-digit ids, workers ``w-`` + 8 hex digits, labels the
    class names in :data:`CLASS_NAMES`; :func:`write_csv` writes ``item,worker,label`` rows in a
    random order (file order carries no information).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

CLASS_NAMES = ("negative", "neutral", "positive", "mixed", "off-topic", "spam", "other", "unsure")


@dataclass(frozen=True)
class SyntheticCrowd:
    items: NDArray[np.int64]
    workers: NDArray[np.int64]
    labels: NDArray[np.int64]
    truth: NDArray[np.int64]


@dataclass(frozen=True)
class StringCrowd:
    """Answers as strings in file order, and the true class of every item."""

    items: list[str]
    workers: list[str]
    labels: list[str]
    truth: dict[str, str]
    spammers: int


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


def _distinct_workers(
    rng: np.random.Generator, activity: NDArray[np.float64], n_items: int, per_item: int
) -> NDArray[np.int64]:
    """``(n_items, per_item)`` workers drawn by activity, distinct within each item."""
    cumulative = np.cumsum(activity / activity.sum())
    cumulative[-1] = 1.0

    def draw(size: int) -> NDArray[np.int64]:
        return np.searchsorted(cumulative, rng.random(size), side="right").astype(np.int64)

    chosen = draw(n_items * per_item).reshape(n_items, per_item)
    for _ in range(100):
        ordered = np.sort(chosen, axis=1)
        clash = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not clash.any():
            return chosen
        chosen[clash] = draw(int(clash.sum()) * per_item).reshape(-1, per_item)
    raise RuntimeError("could not draw distinct workers; lower per_item or raise n_workers")


def generate_hard(
    *,
    n_items: int = 200_000,
    per_item: int = 5,
    n_workers: int = 2_000,
    n_classes: int = 5,
    spammer_share: float = 0.2,
    prior_ratio: float = 0.6,
    seed: int = 20261205,
) -> StringCrowd:
    """The simulation described in the module docstring, with string ids, rows shuffled."""
    if not 2 <= n_classes <= len(CLASS_NAMES):
        raise ValueError(f"n_classes must lie in [2, {len(CLASS_NAMES)}]")
    rng = np.random.default_rng(seed)
    K = n_classes
    priors = prior_ratio ** np.arange(K)
    priors /= priors.sum()
    truth = rng.choice(K, size=n_items, p=priors)

    accuracy = 1.0 / K + (1.0 - 1.0 / K) * rng.beta(3.0, 1.5, size=n_workers)
    off = rng.dirichlet(np.ones(K - 1), size=(n_workers, K))
    kind = np.zeros(n_workers, dtype=np.int64)  # 0 honest, 1 uniform spammer, 2 one-class
    spammers = rng.permutation(n_workers)[: round(spammer_share * n_workers)]
    kind[spammers[: len(spammers) // 2]] = 1
    kind[spammers[len(spammers) // 2 :]] = 2
    favourite = rng.integers(K, size=n_workers)
    activity = rng.lognormal(0.0, 1.0, size=n_workers)

    workers = _distinct_workers(rng, activity, n_items, per_item).reshape(-1)
    items = np.repeat(np.arange(n_items), per_item)
    true = truth[items]
    right = rng.random(len(items)) < accuracy[workers]
    cumulative = off[workers, true].cumsum(axis=1)
    draw = np.minimum((rng.random(len(items))[:, None] > cumulative).sum(axis=1), K - 2)
    honest = np.where(right, true, np.where(draw >= true, draw + 1, draw))
    uniform = rng.integers(K, size=len(items))
    labels = np.select(
        [kind[workers] == 1, kind[workers] == 2], [uniform, favourite[workers]], honest
    )

    order = rng.permutation(len(items))
    item_ids = [f"{value:016x}" for value in rng.integers(2**62, size=n_items, dtype=np.int64)]
    worker_ids = [f"w-{value:08x}" for value in rng.integers(2**31, size=n_workers, dtype=np.int64)]
    if len(set(item_ids)) != n_items or len(set(worker_ids)) != n_workers:
        raise RuntimeError("id collision; change the seed")
    names = CLASS_NAMES[:K]
    return StringCrowd(
        items=[item_ids[i] for i in items[order].tolist()],
        workers=[worker_ids[w] for w in workers[order].tolist()],
        labels=[names[label] for label in labels[order].tolist()],
        truth={item_ids[i]: names[k] for i, k in enumerate(truth.tolist())},
        spammers=len(spammers),
    )


def write_csv(crowd: StringCrowd, path: Path) -> None:
    """Write ``item,worker,label`` with a header (ids never need quoting)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("item,worker,label\n")
        handle.writelines(
            f"{item},{worker},{label}\n"
            for item, worker, label in zip(crowd.items, crowd.workers, crowd.labels, strict=True)
        )
