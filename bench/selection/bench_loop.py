"""Selection benchmark: labels the loop needs to reach 95% / 99% of full-data accuracy.

Replays CLINC150 and xSID through :func:`loupe.simulation.replay` for each
strategy ("arm") and seed, against random sampling, noise-free and with
SIMULATED noisy annotators; writes every curve and ``summary.json`` to
``bench/selection/results/`` and prints Markdown tables.

    .venv/bin/python bench/selection/bench_loop.py --seeds 3 --workers 2

Skips (exit 0, with a message) when ``shared/data/intents`` is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intents import IntentTask, available, clinc150, xsid

from loupe.learning.evaluation import Evaluation, evaluate
from loupe.learning.text import LinearTextModel, LinearTextTrainer, TfidfFeaturizer
from loupe.simulation.replay import ReplayConfig, replay

RESULTS = Path(__file__).resolve().parent / "results"
LOADERS = {"clinc150": clinc150, "xsid": xsid}
Curve = dict[str, Any]


@dataclass(frozen=True)
class Arm:
    """One line of the comparison: a name and the replay settings it uses."""

    name: str
    config: ReplayConfig


# Small batches while the model changes fast, 10% of the labelled set later.
BASE = ReplayConfig(seed_per_class=1, batch_size=50, batch_growth=0.1, budget=4500)
NOISE = {"annotators": 3, "annotator_accuracy": (0.6, 0.95)}
# Dynamic overlap, as the product does it: 3 answers, up to 5 where still unsure.
DYNAMIC = {**NOISE, "max_annotators": 5, "overlap_target": 0.95}
# Margin, weighted by information density (beta = 1), then BADGE over a 10x shortlist.
DENSE = replace(BASE, diversity=10.0, density_weight=1.0)
ARMS = {
    arm.name: arm
    for arm in (
        Arm("random", replace(BASE, strategy={"random": 1.0}, budget=15000)),
        Arm("entropy", replace(BASE, strategy={"entropy": 1.0})),
        Arm("margin", replace(BASE, strategy={"margin": 1.0})),
        Arm("margin+badge", replace(BASE, diversity=10.0)),
        Arm("margin+badge noisy", replace(BASE, diversity=10.0, **NOISE)),  # type: ignore[arg-type]
        Arm("density+badge", DENSE),
        Arm("density+badge noisy", replace(DENSE, **NOISE)),  # type: ignore[arg-type]
        Arm("density+badge noisy dynamic", replace(DENSE, **DYNAMIC)),  # type: ignore[arg-type]
    )
}
BEST = "density+badge"


def _file(task: str, arm: str, seed: int) -> Path:
    return RESULTS / f"{task}__{arm.replace(' ', '_').replace('+', '-')}__{seed}.json"


def _run(job: tuple[str, str, int]) -> Curve:
    task_name, arm_name, seed = job
    task = LOADERS[task_name]()
    config = ARMS[arm_name].config
    config = replace(config, seed=seed, budget=min(config.budget, len(task.pool)))
    start = time.perf_counter()
    out = replay(task.pool, task.test, config).to_dict()
    seconds = time.perf_counter() - start
    out["meta"]["bench"] = {"task": task_name, "arm": arm_name, "seconds": seconds}
    _file(task_name, arm_name, seed).write_text(json.dumps(out) + "\n")
    print(f"done {task_name} {arm_name} seed {seed} in {seconds:.0f}s", flush=True)
    return out


def _best_threshold(model: LinearTextModel, data: Any) -> float:
    probs = model.predict_proba(data.texts)
    best = (-1.0, 0.5)
    for threshold in np.linspace(0.05, 0.95, 91):
        e = evaluate(data.labels, probs, model.classes_, threshold=float(threshold))
        r, p = e.oos_recall or 0.0, e.oos_precision or 0.0
        best = max(best, (2 * r * p / (r + p) if r + p else 0.0, float(threshold)))
    return best[1]


def _oos_row(model: LinearTextModel, task: IntentTask) -> dict[str, float | None]:
    # The threshold is chosen on validation (best out-of-scope F1), then applied to test.
    assert task.validation is not None and task.test_with_oos is not None
    threshold = _best_threshold(model, task.validation)
    test = task.test_with_oos
    e: Evaluation = evaluate(
        test.labels, model.predict_proba(test.texts), model.classes_, threshold=threshold
    )
    return {
        "threshold": threshold,
        "oos_recall": e.oos_recall,
        "oos_precision": e.oos_precision,
        "in_scope_accuracy": e.in_scope_accuracy,
    }


def full_data(task: IntentTask) -> dict[str, Any]:
    """The same trainer on the whole pool: the accuracy every curve is measured against."""
    featurizer = TfidfFeaturizer().fit(task.pool.texts)
    trainer = LinearTextTrainer(c=BASE.c, temperature=BASE.temperature, featurizer=featurizer)
    start = time.perf_counter()
    model = trainer.fit(task.pool.texts, task.pool.labels)
    seconds = time.perf_counter() - start
    test = evaluate(task.test.labels, model.predict_proba(task.test.texts), model.classes_)
    result: dict[str, Any] = {
        "in_scope_accuracy": test.in_scope_accuracy,
        "fit_seconds": seconds,
        "pool": len(task.pool),
        "test": len(task.test),
        "classes": len(set(task.pool.labels)),
    }
    if task.validation is not None and task.test_with_oos is not None:
        result["oos_threshold_only"] = _oos_row(model, task)
        if task.oos_train is not None:
            # Also: the 100 annotator-labelled out-of-scope rows as one more class.
            texts = task.pool.texts + task.oos_train.texts
            labels = task.pool.labels + task.oos_train.labels
            with_oos = LinearTextTrainer(
                c=BASE.c, temperature=BASE.temperature, vocabulary_texts=texts
            ).fit(texts, labels)
            result["oos_class_and_threshold"] = _oos_row(with_oos, task)
    return result


def _reach(rounds: Sequence[dict[str, Any]], target: float) -> float | None:
    previous: tuple[float, float] | None = None
    for r in rounds:
        x, y = float(r["labels_used"]), float(r["in_scope_accuracy"])
        if y >= target:
            if previous is None or previous[1] >= y:
                return x
            return previous[0] + (target - previous[1]) * (x - previous[0]) / (y - previous[1])
        previous = (x, y)
    return None


def _accuracy_at(rounds: Sequence[dict[str, Any]], labels: float) -> float:
    xs = [float(r["labels_used"]) for r in rounds]
    ys = [float(r["in_scope_accuracy"]) for r in rounds]
    return float(np.interp(labels, xs, ys))


def summarise(task: str, full: dict[str, Any], curves: dict[str, list[Curve]]) -> dict[str, Any]:
    """Labels to reach 95% / 99% of full-data accuracy, ratios to random, noise gap."""
    reference = float(full["in_scope_accuracy"])
    table: dict[str, dict[str, Any]] = {}
    for arm, runs in curves.items():
        row: dict[str, Any] = {"seeds": len(runs)}
        for share in (95, 99):
            reached = [_reach(c["rounds"], share / 100 * reference) for c in runs]
            found = [v for v in reached if v is not None]
            row[f"labels_{share}"] = float(np.mean(found)) if len(found) == len(runs) else None
            row[f"labels_{share}_each"] = reached
        table[arm] = row
    for row in table.values():
        for share in (95, 99):
            base = table.get("random", {}).get(f"labels_{share}")
            mine = row.get(f"labels_{share}")
            row[f"ratio_{share}"] = mine / base if base and mine else None
    noise: dict[str, Any] = {}
    for noisy in sorted(a for a in curves if a.startswith(f"{BEST} noisy")):
        if BEST in curves:
            noise[noisy] = noise_gap(curves[BEST], curves[noisy])
    return {"task": task, "full_data": full, "arms": table, "noise": noise}


def noise_gap(clean_runs: list[Curve], noisy_runs: list[Curve]) -> dict[str, Any]:
    """Noise-free minus noisy in-scope accuracy (points), mean over seeds, every 100 labels.

    Seeds pair up (the same seed set and first selections); ``annotations_per_item``
    is what the noisy arm paid per item bought beyond the seed set.
    """
    runs = clean_runs + noisy_runs
    top = int(min(c["rounds"][-1]["labels_used"] for c in runs))
    grid = [float(g) for g in range(200, top + 1, 100)]
    clean = np.mean([[_accuracy_at(c["rounds"], g) for g in grid] for c in clean_runs], 0)
    dirty = np.mean([[_accuracy_at(c["rounds"], g) for g in grid] for c in noisy_runs], 0)
    gap = (clean - dirty) * 100
    bought = [c["rounds"][-1]["labels_used"] - c["rounds"][0]["labels_used"] for c in noisy_runs]
    paid = [c["rounds"][-1]["annotations"] for c in noisy_runs]
    return {
        "grid": [int(g) for g in grid],
        "gap_points": [round(float(g), 2) for g in gap],
        "max_gap_points": float(np.max(gap)),
        "mean_gap_points": float(np.mean(gap)),
        "final_label_accuracy": float(
            np.mean([c["rounds"][-1]["label_accuracy"] for c in noisy_runs])
        ),
        "annotations_per_item": float(np.sum(paid) / max(np.sum(bought), 1)),
    }


def _fmt(value: float | None, spec: str) -> str:
    return "not reached" if value is None else format(value, spec)


def markdown(summary: dict[str, Any]) -> str:
    """One table per task, in the shape docs/benchmarks-selection.md uses."""
    full = summary["full_data"]
    lines = [
        f"### {summary['task']} (full-data in-scope accuracy {full['in_scope_accuracy']:.4f})",
        "",
        "| strategy | seeds | labels to 95% | x random | labels to 99% | x random |",
        "|---|---|---|---|---|---|",
    ]
    for arm, row in summary["arms"].items():
        lines.append(
            f"| {arm} | {row['seeds']} | {_fmt(row['labels_95'], '.0f')} | "
            f"{_fmt(row['ratio_95'], '.2f')} | {_fmt(row['labels_99'], '.0f')} | "
            f"{_fmt(row['ratio_99'], '.2f')} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", nargs="*", default=list(LOADERS))
    parser.add_argument("--arms", nargs="*", default=list(ARMS))
    parser.add_argument("--reuse", action="store_true", help="Reuse curves already on disk.")
    parser.add_argument("--summary", default="summary.json", help="File name under results/.")
    args = parser.parse_args(argv)
    reason = available()
    if reason:
        print(reason)
        return 0
    RESULTS.mkdir(exist_ok=True)
    jobs = [(t, a, s) for t in args.tasks for a in args.arms for s in range(args.seeds)]
    todo = [j for j in jobs if not (args.reuse and _file(*j).is_file())]
    # Longest first, so the workers finish together; the reference arm (entropy) last.
    order = ["random", BEST, f"{BEST} noisy dynamic", f"{BEST} noisy", "margin+badge", "margin"]
    todo.sort(key=lambda j: (order.index(j[1]) if j[1] in order else len(order), j[0]))
    with ProcessPoolExecutor(max_workers=args.workers) as ex:
        list(ex.map(_run, todo))
    summaries = []
    for task_name in args.tasks:
        task = LOADERS[task_name]()
        curves: dict[str, list[Curve]] = {}
        for t, arm, seed in jobs:
            if t == task_name:
                curves.setdefault(arm, []).append(json.loads(_file(t, arm, seed).read_text()))
        summary = summarise(task_name, full_data(task), curves)
        summaries.append(summary)
        print(markdown(summary))
        print(json.dumps({k: summary[k] for k in ("full_data", "noise")}, indent=2))
    (RESULTS / args.summary).write_text(json.dumps(summaries, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
