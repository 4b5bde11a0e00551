"""Selection at scale: CPU-seconds to pick 100 items from pools of 20k, 50k and 100k.

Every strategy of :data:`loupe.selection.STRATEGIES`, density-weighted margin
(the pool's :func:`~loupe.selection.knn_density` timed on its own: it is computed
once per pool) and the two diversity methods, each through
:func:`~loupe.selection.select_batch` with a batch of 100, on one BLAS thread.
The exact computations (k-NN density over the whole pool, novelty against every
labelled row) run in the same script as the baseline where affordable
(``--exact-sizes``, 20k by default).

Two feature kinds:

* **sparse**: the default trainer's TF-IDF (word 1-2-grams + char_wb 2-5-grams)
  of CLINC150's 23,700 utterances, padded to the pool size with copies that
  drop each word with probability 0.2 (SYNTHETIC variants of real text); a
  Gaussian-mixture fallback when the data is absent;
* **dense**: 384-d unit vectors from 300 planted clusters of different spreads,
  each in its own 48-d subspace (SYNTHETIC, the shape of MiniLM sentence
  embeddings, not real ones).

Probabilities are Dirichlet draws over 150 classes; 2,000 labelled rows.

    .venv/bin/python bench/selection/bench_scale.py            # ~10 min on 2 busy cores
    .venv/bin/python bench/selection/bench_scale.py --sizes 20000 --exact-sizes 20000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intents import DATA

from loupe.selection import Pool, knn_density, max_cosine_similarity, select_batch

RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = 150
LABELLED = 2000
BATCH = 100


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def sparse_features(n: int, rng: np.random.Generator) -> Any:
    """TF-IDF rows of CLINC150 utterances and word-dropped copies (or synthetic, if absent)."""
    from loupe.learning.text import TfidfFeaturizer

    texts: list[str] = []
    for split in ("train", "test", "validation"):
        path = DATA / "clinc150" / f"{split}.jsonl"
        if path.is_file():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    if not texts:
        words = [f"w{i}" for i in range(5000)]
        texts = [" ".join(rng.choice(words, size=8)) for _ in range(2000)]
    base = list(texts)
    while len(texts) < n:
        words = base[int(rng.integers(len(base)))].split()
        kept = [w for w in words if rng.random() > 0.2] or words
        texts.append(" ".join(kept))
    texts = texts[:n]
    order = rng.permutation(n)
    return TfidfFeaturizer().fit(texts).transform([texts[i] for i in order])


def dense_features(n: int, rng: np.random.Generator, dims: int = 384) -> Any:
    """Unit vectors around 300 centres, each spread in its own 48-d subspace (SYNTHETIC)."""
    centres = rng.standard_normal((300, dims))
    spread = rng.uniform(0.3, 0.9, size=300)
    bases = rng.standard_normal((300, 48, dims)).astype(np.float32) / np.sqrt(48)
    cluster = rng.integers(300, size=n)
    x = np.empty((n, dims), dtype=np.float32)
    for c in range(300):
        rows = np.flatnonzero(cluster == c)
        offsets = 3.0 * spread[c] * rng.standard_normal((rows.size, 48)) @ bases[c]
        x[rows] = centres[c] + offsets + 0.1 * rng.standard_normal((rows.size, dims))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _arms(pool: Pool) -> dict[str, dict[str, Any]]:
    return {
        "random": {"mix": {"random": 1.0}},
        "least_confidence": {"mix": {"least_confidence": 1.0}},
        "margin": {"mix": {"margin": 1.0}},
        "entropy": {"mix": {"entropy": 1.0}},
        "out_of_scope": {"mix": {"out_of_scope": 1.0}},
        "disagreement": {"mix": {"disagreement": 1.0}},
        "novelty": {"mix": {"novelty": 1.0}},
        "margin x density (density given)": {"mix": {"margin": 1.0}, "density_weight": 1.0},
        "margin + badge (10x shortlist)": {"mix": {"margin": 1.0}, "diversity": 10.0},
        "margin + farthest-first (10x)": {
            "mix": {"margin": 1.0},
            "diversity": 10.0,
            "diversity_method": "farthest",
        },
        "mix 0.8 margin + 0.2 novelty, 5% audit": {
            "mix": {"margin": 0.8, "novelty": 0.2},
            "audit_share": 0.05,
        },
    }


def bench_pool(kind: str, n: int, *, exact: bool, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    make = sparse_features if kind == "sparse" else dense_features
    x_all = make(n + LABELLED, rng)
    features, labelled = x_all[:n], x_all[n:]
    probabilities = rng.dirichlet(np.full(CLASSES, 0.05), size=n)
    human = np.where(rng.random(n) < 0.05, rng.integers(CLASSES, size=n), -1)
    rows: list[dict[str, Any]] = []

    def record(name: str, seconds: float, method: str) -> None:
        row = {"features": kind, "pool": n, "what": name, "method": method, "cpu_s": seconds}
        rows.append(row | {"load": _load()})
        print(f"| {kind} | {n:,} | {name} | {method} | {seconds:.2f} | {_load()} |", flush=True)

    seconds, density = _cpu(lambda: knn_density(features, k=10, exact_up_to=0))
    record("knn_density (once per pool)", seconds, "approximate")
    if exact:
        seconds, exact_density = _cpu(lambda: knn_density(features, k=10, exact_up_to=10**9))
        record("knn_density (once per pool)", seconds, "exact")
        from scipy.stats import spearmanr

        rho = float(spearmanr(density, exact_density).statistic)
        print(f"  density Spearman approx vs exact: {rho:.3f}", flush=True)
        rows[-1]["spearman"] = rho
        seconds, sims = _cpu(
            lambda: max_cosine_similarity(features, labelled, exact_pairs_up_to=10**12)
        )
        record("novelty scores (max similarity to 2,000 labelled)", seconds, "exact")
        seconds, approx_sims = _cpu(lambda: max_cosine_similarity(features, labelled))
        record("novelty scores (max similarity to 2,000 labelled)", seconds, "approximate")
        top = np.argsort(sims)[:BATCH]
        picked = np.argsort(approx_sims, kind="stable")[:BATCH]
        print(
            "  novelty: mean exact max-similarity of the 100 picked: "
            f"exact {sims[top].mean():.3f}, approximate {sims[picked].mean():.3f}, "
            f"pool mean {sims.mean():.3f}",
            flush=True,
        )
    pool = Pool(
        probabilities=probabilities,
        features=features,
        labelled_features=labelled,
        human_labels=human,
        density=density,
    )
    for name, options in _arms(pool).items():
        seconds, _ = _cpu(
            lambda options=options: select_batch(
                pool, batch_size=BATCH, rng=np.random.default_rng(seed), **options
            )
        )
        record(f"select_batch: {name}", seconds, "default")
    return rows


def main() -> None:
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--exact-sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--kinds", nargs="+", default=["sparse", "dense"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="scale.json")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average (1/5/15 min) at start: {_load()}")
    print("| features | pool | what | method | CPU-s | load 1/5/15 |\n|---|---|---|---|---|---|")
    rows: list[dict[str, Any]] = []
    with threadpool_limits(1):  # one core: BLAS may not spread the work
        for kind in args.kinds:
            for n in args.sizes:
                rows += bench_pool(kind, n, exact=n in args.exact_sizes, seed=args.seed)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.output).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
