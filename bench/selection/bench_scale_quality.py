"""Does the approximate information density select as well as the exact one?

On CLINC150 (15,000 pool rows, where exact k-NN density is still affordable)
the loop's best arm (density-weighted margin, then BADGE;
``bench_loop.py``'s ``density+badge``) is replayed twice per seed with the same
seeds: once with exact densities and once with the approximate ones
(:mod:`loupe.selection.neighbours`, the default above 5,000 rows). Prints labels
to reach 95% of full-data accuracy per seed, and the Spearman rank correlation
and mean absolute difference between the two density vectors.

    .venv/bin/python bench/selection/bench_scale_quality.py --seeds 3 --workers 2

Skips (exit 0, with a message) when ``shared/data/intents`` is absent.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intents import available, clinc150, xsid

from loupe.learning.text import TfidfFeaturizer
from loupe.selection.density import knn_density

# loupe.simulation exports a function named replay, which hides the module of that name.
replay_module = importlib.import_module("loupe.simulation.replay")

RESULTS = Path(__file__).resolve().parent / "results"
# bench_loop.py's density+badge arm, stopped once it is well past the 95% target.
TARGET_95 = 0.95 * 0.9278  # CLINC150 full-data in-scope accuracy (docs/benchmarks-selection.md)
BUDGET = 2600


def _run(job: tuple[str, int]) -> dict[str, object]:
    mode, seed = job
    exact_up_to = 10**9 if mode == "exact" else 5000
    # The replay computes the pool's densities once with knn_density's defaults:
    # here the threshold is set per arm, everything else is bench_loop's arm.
    replay_module.knn_density = partial(knn_density, exact_up_to=exact_up_to)  # type: ignore[assignment]
    from bench_loop import ARMS

    task = clinc150()
    config = replace(ARMS["density+badge"].config, seed=seed, budget=BUDGET)
    start = time.process_time()
    curve = replay_module.replay(task.pool, task.test, config)
    seconds = time.process_time() - start
    labels = curve.labels_to_reach(TARGET_95)
    print(f"done {mode} seed {seed}: {labels} labels, {seconds:.0f} CPU-s", flush=True)
    return {"mode": mode, "seed": seed, "labels_to_95": labels, "cpu_seconds": seconds}


def _rank_agreement(name: str, texts: list[str]) -> dict[str, float]:
    from scipy.stats import spearmanr

    x = TfidfFeaturizer().fit(texts).transform(texts)
    start = time.process_time()
    exact = knn_density(x, k=10, exact_up_to=10**9)
    t_exact = time.process_time() - start
    start = time.process_time()
    approx = knn_density(x, k=10)
    t_approx = time.process_time() - start
    rho = float(spearmanr(exact, approx).statistic)
    top = int(len(texts) * 0.1)
    # Of the 10% least typical items by the exact density, how many the approximation also puts there.
    overlap = len(set(np.argsort(exact)[:top]) & set(np.argsort(approx)[:top])) / top
    out = {
        "rows": float(len(texts)),
        "spearman": rho,
        "mean_abs_diff": float(np.abs(exact - approx).mean()),
        "bottom10_overlap": overlap,
        "exact_cpu_s": t_exact,
        "approx_cpu_s": t_approx,
    }
    print(f"{name}: {json.dumps({k: round(v, 3) for k, v in out.items()})}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    reason = available()
    if reason:
        print(reason)
        return
    summary: dict[str, object] = {
        "clinc150": _rank_agreement("clinc150", list(clinc150().pool.texts)),
        "xsid": _rank_agreement("xsid", list(xsid().pool.texts)),
    }
    if not args.skip_replay:
        jobs = [(mode, seed) for seed in range(args.seeds) for mode in ("exact", "approx")]
        with ProcessPoolExecutor(args.workers) as pool:
            runs = list(pool.map(_run, jobs))
        summary["runs"] = runs
        for mode in ("exact", "approx"):
            got = [r["labels_to_95"] for r in runs if r["mode"] == mode]
            print(f"{mode}: labels to 95% per seed {got}")
    (RESULTS / "summary_scale_quality.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
