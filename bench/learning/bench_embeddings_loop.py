"""Label efficiency and out-of-scope detection with MiniLM sentence vectors (numpy encoder).

    .venv/bin/python bench/learning/bench_embeddings_loop.py --seeds 5 --tasks clinc150 xsid

The replay protocol of ``docs/benchmarks-selection.md`` (one seed example per
intent, batches of 50 until 500 labels then 10% of the labelled set, noise-free
oracle) with ``EmbeddingTrainer``'s classifier (multinomial logistic regression,
C = 10) on cached sentence vectors (``vectors.py``), random sampling as the
control with the same seeds in the same run. Each run stops once it crosses 95%
of the full-data accuracy (and, with ``--curve-to N``, has N labels). Then
CLINC150's out-of-scope split: max-probability, class-centroid and k-NN cosine
scores, threshold chosen on validation for precision >= 0.85, applied to test.
Skips when ``shared/data/intents`` is absent.

An arm named ``"<arm> noisy dynamic"`` (or ``"<arm> noisy"``) replaces the oracle
with SIMULATED annotators (``loupe.simulation.noisy_oracle``, the protocol of
``bench/selection/bench_loop.py``: dynamic overlap 3 -> 5 below a 0.95 posterior,
or a fixed 3) and is compared with ``<arm>`` run with the same seeds: noise-free
minus noisy accuracy on a grid every 100 labels (``bench_loop.noise_gap``).

    .venv/bin/python bench/learning/bench_embeddings_loop.py --seeds 5 --tasks clinc150 \\
        --arms random margin+badge "margin+badge noisy dynamic" --curve-to 3000 --skip-oos

``--tasks clinc150-dev`` is a development split of CLINC150's training set (20 rows
per intent held out as the evaluation set); arms ``typiclust+badge`` (a k-means
cold start until 500 labels) and ``balanced+badge`` (a class-balanced margin
shortlist) were tried on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "selection"))

from bench_loop import noise_gap
from vectors import CACHE, Split, load_split, missing

from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer
from loupe.selection import Pool, select_batch
from loupe.simulation.noisy_oracle import NoisyOracle

F = NDArray[np.float64]
Curve = dict[str, Any]


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
        elif name == "clinc150-dev":
            # Development split: 20 training rows per intent held out (seed 0), test untouched.
            train = load_split("clinc150/train", cache=cache)
            inscope = _subset(train, train.labels != "oos")
            rng = np.random.default_rng(0)
            held = np.zeros(inscope.labels.size, dtype=bool)
            for label in np.unique(inscope.labels):
                held[rng.choice(np.flatnonzero(inscope.labels == label), 20, replace=False)] = True
            out.append(Task(name, _subset(inscope, ~held), _subset(inscope, held)))
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


# The noisy arms' SIMULATED annotators, as bench/selection/bench_loop.py has them:
# accuracies uniform in 0.6-0.95, one-coin aggregation with the model prior (0.9);
# "noisy" is a fixed three answers, "noisy dynamic" three, up to five while unsure.
NOISE = {"annotators": 3, "annotator_accuracy": (0.6, 0.95)}
DYNAMIC = {**NOISE, "max_annotators": 5, "overlap_target": 0.95}
NOISY = {" noisy dynamic": DYNAMIC, " noisy": NOISE}


def split_arm(arm: str) -> tuple[str, dict[str, Any] | None]:
    """``"margin+badge noisy dynamic"`` -> ``("margin+badge", DYNAMIC)``; noise-free: ``None``."""
    for suffix, noise in NOISY.items():
        if arm.endswith(suffix):
            return arm[: -len(suffix)], noise
    return arm, None


def run(task: Task, arm: str, seed: int, target: float, budget: int, curve_to: int = 0) -> Curve:
    """One replay: rounds until the curve crosses ``target`` and has ``curve_to`` labels.

    The seed set and the selections draw from ``seed``; a noisy arm's annotators
    from a stream of their own, so it starts exactly like its noise-free twin.
    """
    strategy, noise = split_arm(arm)
    rng = np.random.default_rng(seed)
    classes, y = np.unique(task.pool.labels, return_inverse=True)
    index = {str(c): k for k, c in enumerate(classes)}
    labelled = np.zeros(y.size, dtype=bool)
    for k in range(classes.size):
        labelled[rng.choice(np.flatnonzero(y == k))] = True
    given = np.where(labelled, y, -1)  # the seed set is written by the project owner: exact
    oracle = (
        None
        if noise is None
        else NoisyOracle(n_classes=classes.size, rng=np.random.default_rng([seed, 1]), **noise)
    )
    rounds: list[dict[str, float]] = []
    x = task.pool.vectors
    density = _density(task) if strategy == "density+badge" else None
    while True:
        model = fit(x[labelled], classes[given[labelled]])
        n = int(labelled.sum())
        rounds.append(
            {
                "labels_used": n,
                "in_scope_accuracy": accuracy(model, task.test),
                "annotations": 0 if oracle is None else oracle.annotations_,
                "label_accuracy": float(np.mean(given[labelled] == y[labelled])),
            }
        )
        crossed = any(r["in_scope_accuracy"] >= target for r in rounds)
        if (crossed and n >= curve_to) or n >= budget or labelled.all():
            return {"rounds": rounds}
        size = 50 if n < 500 else int(np.ceil(0.1 * n))
        unl = np.flatnonzero(~labelled)
        probs = np.zeros((unl.size, classes.size))
        columns = np.array([index[c] for c in model.classes_])
        if strategy == "random":
            pick = rng.choice(unl, size=min(size, unl.size), replace=False)
            chosen = np.flatnonzero(np.isin(unl, pick))
        elif strategy == "typiclust+badge" and n < 500:
            chosen = typiclust(x, labelled, unl, size=size, rng=rng)
            pick = unl[chosen]
        elif strategy == "balanced+badge":
            probs[:, columns] = model.predict_proba_vectors(np.asarray(x[unl], dtype=np.float64))
            chosen = balanced_badge(probs, np.asarray(x[unl], dtype=np.float64), size=size, rng=rng)
            pick = unl[chosen]
        else:
            probs[:, columns] = model.predict_proba_vectors(np.asarray(x[unl], dtype=np.float64))
            pool = Pool(
                probabilities=probs,
                features=np.asarray(x[unl], dtype=np.float64),
                density=None if density is None else density[unl],
            )
            chosen = np.asarray(
                select_batch(
                    pool,
                    mix={"margin": 1.0},
                    batch_size=size,
                    rng=rng,
                    diversity=1.0 if strategy == "margin" else 10.0,
                    density_weight=0.0 if density is None else 1.0,
                ).indices
            )
            pick = unl[chosen]
        if oracle is None:
            given[pick] = y[pick]
        else:
            if not probs.any():  # the model prior: probabilities before the votes
                probs[np.ix_(chosen, columns)] = model.predict_proba_vectors(
                    np.asarray(x[unl[chosen]], dtype=np.float64)
                )
            asked, labels = oracle.answer(unl[chosen], truth=y[unl[chosen]], prior=probs[chosen])
            given[asked] = labels
        labelled[pick] = True


def typiclust(
    x: NDArray[np.float32],
    labelled: NDArray[np.bool_],
    unl: NDArray[np.int64],
    *,
    size: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Cold start by typicality (TypiClust, Hacohen et al. 2022), positions into ``unl``.

    k-means with ``labelled + size`` clusters on the pool; the largest clusters
    without a labelled item each give their item nearest the centroid (cosine).
    """
    from sklearn.cluster import MiniBatchKMeans

    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    k = int(labelled.sum()) + size
    km = MiniBatchKMeans(
        n_clusters=k, n_init=1, batch_size=4096, random_state=int(rng.integers(2**31))
    ).fit(unit)
    assign = km.labels_
    covered = np.zeros(k, dtype=bool)
    covered[assign[labelled]] = True
    sizes = np.bincount(assign, minlength=k)
    position = np.full(x.shape[0], -1)
    position[unl] = np.arange(unl.size)
    picks: list[int] = []
    for c in np.argsort(-sizes, kind="stable"):
        if covered[c] or len(picks) >= size:
            continue
        members = np.flatnonzero((assign == c) & ~labelled)
        if members.size:
            picks.append(int(members[np.argmax(unit[members] @ km.cluster_centers_[c])]))
    if len(picks) < size:  # fewer uncovered clusters than the batch: fill at random
        rest = np.setdiff1d(unl, picks)
        picks += rng.choice(rest, size=min(size - len(picks), rest.size), replace=False).tolist()
    return np.asarray(position[picks], dtype=np.int64)


def balanced_badge(
    probs: F, features: F, *, size: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Margin, class-balanced: a 10x shortlist holding at most ``10 size / K`` items per
    predicted class (lowest margin first), then BADGE over the shortlist."""
    from loupe.selection.diversity import badge

    top2 = -np.sort(-probs, axis=1)[:, :2]
    order = np.argsort(top2[:, 0] - top2[:, 1], kind="stable")
    predicted = probs.argmax(axis=1)[order]
    cap = int(np.ceil(10 * size / probs.shape[1]))
    rank = np.zeros(order.size, dtype=np.int64)  # how many before it share its class
    seen = np.zeros(probs.shape[1], dtype=np.int64)
    for i, k in enumerate(predicted):
        rank[i] = seen[k]
        seen[k] += 1
    shortlist = order[rank < cap][: 10 * size]
    picked = badge(features[shortlist], probs[shortlist], k=size, rng=rng)
    return np.asarray(shortlist[picked], dtype=np.int64)


def labels_to_reach(curve: Curve, target: float) -> float | None:
    """Labels at which the curve first reaches ``target``, linearly interpolated."""
    previous: dict[str, float] | None = None
    for r in curve["rounds"]:
        if r["in_scope_accuracy"] >= target:
            if previous is None or previous["in_scope_accuracy"] == r["in_scope_accuracy"]:
                return float(r["labels_used"])
            n0, a0 = previous["labels_used"], previous["in_scope_accuracy"]
            return float(
                n0 + (target - a0) * (r["labels_used"] - n0) / (r["in_scope_accuracy"] - a0)
            )
        previous = r
    return None


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


def _timed_run(job: tuple[Task, str, int, float, int, int]) -> tuple[Curve, float]:
    start = time.process_time()
    curve = run(*job)
    return curve, time.process_time() - start


def report(curves: dict[str, list[Curve]], target: float) -> None:
    """Labels to 95% per arm against random; noise-free minus noisy accuracy per noisy arm."""
    reached = {arm: [labels_to_reach(c, target) for c in runs] for arm, runs in curves.items()}
    means = {
        arm: float(np.mean([r for r in each if r is not None]))
        if None not in each
        else float("nan")
        for arm, each in reached.items()
    }
    for arm, each in reached.items():
        ratio = means[arm] / means["random"] if "random" in means else float("nan")
        seeds = " / ".join("-" if r is None else f"{r:.0f}" for r in each)
        print(f"  {arm}: mean {means[arm]:.0f} labels to 95% ({seeds}), x random {ratio:.2f}")
    for arm, runs in curves.items():
        clean, noise = split_arm(arm)
        if noise is None or clean not in curves:
            continue
        gap = noise_gap(curves[clean], runs)
        grid: Sequence[int] = gap["grid"]
        points = ", ".join(f"{g}: {p:+.1f}" for g, p in zip(grid, gap["gap_points"], strict=True))
        print(
            f"  {arm} vs {clean}, noise-free minus noisy accuracy (points, mean of "
            f"{len(runs)} seeds): max {gap['max_gap_points']:.2f}, mean {gap['mean_gap_points']:.2f}, "
            f"answers per item {gap['annotations_per_item']:.2f}, final label accuracy "
            f"{gap['final_label_accuracy']:.4f}\n    {points}",
            flush=True,
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
    parser.add_argument(
        "--curve-to",
        type=int,
        default=0,
        help="keep labelling past 95%% until this many labels (for the noise-gap grid)",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--save", type=Path, help="write each run's curve here as JSON")
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
        # Seed by seed, so that an interrupted run leaves whole seeds in --save.
        jobs = [(task, arm, seed, target, args.budget, args.curve_to)
                for seed in range(args.seeds) for arm in args.arms]  # fmt: skip
        curves: dict[str, list[Curve]] = {arm: [] for arm in args.arms}
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for (_, arm, seed, *_), (curve, seconds) in zip(
                jobs, pool.map(_timed_run, jobs), strict=True
            ):
                curves[arm].append(curve)
                if args.save is not None:
                    args.save.mkdir(parents=True, exist_ok=True)
                    name = f"{task.name}__{arm.replace(' ', '_')}__{seed}.json"
                    (args.save / name).write_text(json.dumps({"target": target, **curve}))
                labels = labels_to_reach(curve, target)
                print(
                    f"  {arm:28s} seed {seed}: {labels if labels is None else round(labels)} "
                    f"labels ({len(curve['rounds'])} rounds, {seconds:.0f} CPU-s)",
                    flush=True,
                )
        report(curves, target)
    if "clinc150" in args.tasks and not args.skip_oos:
        oos_benchmark(args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
