"""Label efficiency and out-of-scope detection with MiniLM sentence vectors (numpy encoder).

    .venv/bin/python bench/learning/bench_embeddings_loop.py --seeds 5 --tasks clinc150 xsid

The replay protocol of ``docs/benchmarks-selection.md`` (one seed example per
intent, batches of 50 until 500 labels then 10% of the labelled set, noise-free
oracle) with ``EmbeddingTrainer``'s classifier (multinomial logistic regression,
C = 10) on cached sentence vectors (``vectors.py``), random sampling as the
control with the same seeds in the same run. Each run stops once it crosses 95%
of the full-data accuracy. Then CLINC150's out-of-scope split: max-probability,
class-centroid and k-NN cosine scores, threshold chosen on validation for
precision >= 0.85, applied to test. Skips when ``shared/data/intents`` is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vectors import CACHE, Split, load_split, missing

from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer
from loupe.selection import Pool, select_batch

F = NDArray[np.float64]


@dataclass(frozen=True)
class Task:
    name: str
    pool: Split
    test: Split


def tasks(names: list[str], cache: Path, xsid_test: int) -> list[Task]:
    out = []
    for name in names:
        if name == "clinc150":
            train, test = (
                load_split("clinc150/train", cache=cache),
                load_split("clinc150/test", cache=cache),
            )
            keep, tkeep = train.labels != "oos", test.labels != "oos"
            out.append(Task(name, _subset(train, keep), _subset(test, tkeep)))
        else:
            pool = load_split("xsid/validation", cache=cache)
            test = load_split("xsid/test", cache=cache, limit=xsid_test)
            out.append(
                Task(name, pool, _subset(test, np.isin(test.labels, np.unique(pool.labels))))
            )
    return out


def _subset(split: Split, mask: NDArray[np.bool_]) -> Split:
    idx = np.flatnonzero(mask)
    return Split([split.texts[i] for i in idx], split.labels[idx], split.vectors[idx])


def fit(x: NDArray[np.float32], y: NDArray[np.str_], *, calibrate: bool = False) -> EmbeddingModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EmbeddingTrainer(calibrate=calibrate).fit_vectors(np.asarray(x, dtype=np.float64), y)


def accuracy(model: EmbeddingModel, test: Split) -> float:
    probs = model.predict_proba_vectors(np.asarray(test.vectors, dtype=np.float64))
    return float(np.mean(np.array(model.classes_)[probs.argmax(axis=1)] == test.labels))


_DENSITY: dict[str, F] = {}


def _density(task: Task) -> F:
    """Mean cosine to the 10 nearest pool items (``knn_density``), once per task."""
    if task.name not in _DENSITY:
        from loupe.selection import knn_density

        _DENSITY[task.name] = knn_density(np.asarray(task.pool.vectors, dtype=np.float64))
    return _DENSITY[task.name]


def run(
    task: Task, arm: str, seed: int, target: float, budget: int
) -> tuple[float | None, list[tuple[int, float]]]:
    rng = np.random.default_rng(seed)
    y = task.pool.labels
    labelled = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        labelled[rng.choice(np.flatnonzero(y == label))] = True
    curve: list[tuple[int, float]] = []
    x = task.pool.vectors
    density = _density(task) if arm == "density+badge" else None
    while True:
        model = fit(x[labelled], y[labelled])
        n = int(labelled.sum())
        curve.append((n, accuracy(model, task.test)))
        if curve[-1][1] >= target:
            break
        if n >= budget or labelled.all():
            return None, curve
        size = 50 if n < 500 else int(np.ceil(0.1 * n))
        unl = np.flatnonzero(~labelled)
        if arm == "random":
            pick = rng.choice(unl, size=min(size, unl.size), replace=False)
        else:
            probs = model.predict_proba_vectors(np.asarray(x[unl], dtype=np.float64))
            pool = Pool(
                probabilities=probs,
                features=np.asarray(x[unl], dtype=np.float64),
                density=None if density is None else density[unl],
            )
            chosen = select_batch(
                pool,
                mix={"margin": 1.0},
                batch_size=size,
                rng=rng,
                diversity=1.0 if arm == "margin" else 10.0,
                density_weight=0.0 if density is None else 1.0,
            )
            pick = unl[np.asarray(chosen.indices)]
        labelled[pick] = True
    (n0, a0), (n1, a1) = curve[-2] if len(curve) > 1 else curve[-1], curve[-1]
    crossing = n1 if a1 == a0 or len(curve) == 1 else n0 + (target - a0) * (n1 - n0) / (a1 - a0)
    return float(crossing), curve


def recall_at_precision(
    scores: F, is_oos: NDArray[np.bool_], threshold: float
) -> tuple[float, float]:
    flagged = scores >= threshold
    tp = float(np.sum(flagged & is_oos))
    precision = tp / max(1.0, float(flagged.sum()))
    return tp / max(1.0, float(is_oos.sum())), precision


def pick_threshold(scores: F, is_oos: NDArray[np.bool_], min_precision: float) -> float:
    """The lowest threshold (most recall) whose precision is at least ``min_precision``."""
    best = float(scores.max()) + 1
    for t in np.unique(scores)[::-1]:
        _, precision = recall_at_precision(scores, is_oos, float(t))
        if precision >= min_precision:
            best = float(t)
    return best


def best_f1_threshold(scores: F, is_oos: NDArray[np.bool_]) -> float:
    """The threshold with the best out-of-scope F1 (validation has 3% out-of-scope, test 18%)."""
    best, best_f1 = float(scores.max()), -1.0
    for t in np.quantile(scores, np.linspace(0.5, 0.999, 500)):
        recall, precision = recall_at_precision(scores, is_oos, float(t))
        f1 = 2 * recall * precision / max(recall + precision, 1e-12)
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def oos_benchmark(cache: Path, precision: float = 0.85) -> None:
    train = load_split("clinc150/train", cache=cache)
    val = load_split("clinc150/validation", cache=cache)
    test = load_split("clinc150/test", cache=cache)
    ins = train.labels != "oos"
    xtr = np.asarray(train.vectors[ins], dtype=np.float64)
    start = time.perf_counter()
    model = fit(train.vectors[ins], train.labels[ins], calibrate=True)
    print(
        f"\nfull-data model (calibrated, T = {model.temperature:.2f}) in {time.perf_counter() - start:.0f} s"
    )
    classes = np.array(model.classes_)
    centroids = np.vstack([xtr[train.labels[ins] == c].mean(axis=0) for c in classes])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)

    def scores(split: Split) -> dict[str, F]:
        x = np.asarray(split.vectors, dtype=np.float64)
        probs = model.predict_proba_vectors(x)
        sims = x @ xtr.T
        knn = -np.sort(-sims, axis=1)[:, :10].mean(axis=1)
        return {
            "1 - max probability": 1 - probs.max(axis=1),
            "1 - max centroid cosine": 1 - (x @ centroids.T).max(axis=1),
            "1 - mean cosine of 10 nearest": 1 - knn,
        }, classes[probs.argmax(axis=1)]

    sv, _ = scores(val)
    st, pred = scores(test)
    # The 100 out-of-scope training rows as a class of their own; score = p(oos).
    with_oos = fit(train.vectors, train.labels, calibrate=True)
    col = with_oos.classes_.index("oos")
    for split, table in ((val, sv), (test, st)):
        p = with_oos.predict_proba_vectors(np.asarray(split.vectors, dtype=np.float64))
        table["p(oos), 100 oos training rows as a class"] = p[:, col]
        inscope = p.copy()
        inscope[:, col] = 0
        table["p(oos) + 1 - max in-scope probability"] = p[:, col] + 1 - inscope.max(axis=1)
    vo, to = val.labels == "oos", test.labels == "oos"
    base = float(np.mean(pred[~to] == test.labels[~to]))
    print(f"in-scope test accuracy without a threshold: {base:.4f}")
    print(
        "| score | threshold (validation, best F1) | test OOS recall | test OOS precision "
        "| in-scope accuracy | points lost | best test recall at precision >= 0.85 (oracle) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in sv:
        t = best_f1_threshold(sv[name], vo)
        r, p = recall_at_precision(st[name], to, t)
        kept = st[name][~to] < t
        acc = float(np.mean((pred[~to] == test.labels[~to]) & kept))
        oracle = recall_at_precision(st[name], to, pick_threshold(st[name], to, precision))[0]
        print(
            f"| {name} | {t:.3f} | {r:.3f} | {p:.3f} | {acc:.4f} | {100 * (base - acc):.1f} | {oracle:.3f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tasks", nargs="+", default=["clinc150", "xsid"])
    parser.add_argument(
        "--arms", nargs="+", default=["random", "margin", "margin+badge", "density+badge"]
    )
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument(
        "--xsid-test", type=int, default=3000, help="xSID test rows sampled (seed 0)"
    )
    parser.add_argument("--budget", type=int, default=6000)
    parser.add_argument("--skip-oos", action="store_true")
    parser.add_argument("--oos-only", action="store_true")
    args = parser.parse_args()
    if (why := missing()) is not None:
        print(why)
        return 0
    for task in [] if args.oos_only else tasks(args.tasks, args.cache, args.xsid_test):
        start = time.perf_counter()
        full = accuracy(fit(task.pool.vectors, task.pool.labels), task.test)
        target = 0.95 * full
        print(
            f"\n{task.name}: pool {task.pool.labels.size}, test {task.test.labels.size}, "
            f"full-data accuracy {full:.4f} ({time.perf_counter() - start:.0f} s), 95% = {target:.4f}"
        )
        means: dict[str, float] = {}
        for arm in args.arms:
            reached = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                labels, curve = run(task, arm, seed, target, args.budget)
                reached.append(labels)
                print(
                    f"  {arm:13s} seed {seed}: {labels if labels is None else round(labels)} labels "
                    f"({len(curve)} rounds, {time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
            ok = [r for r in reached if r is not None]
            means[arm] = float(np.mean(ok)) if len(ok) == len(reached) else float("nan")
            ratio = means[arm] / means["random"] if "random" in means else float("nan")
            print(f"  {arm}: mean {means[arm]:.0f} labels to 95%, x random {ratio:.2f}", flush=True)
    if "clinc150" in args.tasks and not args.skip_oos:
        oos_benchmark(args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
