"""Sentence-encoder cost: load time, sentences/s on one core, peak RSS; TF-IDF as baseline.

    .venv/bin/python bench/learning/bench_encoder.py --texts 2000

Encodes CLINC150 test utterances (``shared/data/intents``; skips when absent) with
the numpy all-MiniLM-L6-v2 encoder, then featurises the same texts with the
built-in TF-IDF featuriser (fitted on the CLINC150 training texts). BLAS and
OpenMP are held to one thread before numpy is imported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "intents" / "clinc150"


def rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [str(json.loads(line)["text"]) for line in handle]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    if not (DATA / "test.jsonl").is_file():
        print(f"CLINC150 not found at {DATA}; skipping")
        return 0
    from loupe.learning.minilm import MiniLMEncoder, minilm_available

    if not minilm_available():
        print("the embeddings extra is not installed; skipping")
        return 0
    texts = read("test.jsonl")[: args.texts]
    train = read("train.jsonl")
    import numpy as np

    base = rss_mb()
    start = time.perf_counter()
    encoder = MiniLMEncoder.load()
    load_s = time.perf_counter() - start
    loaded = rss_mb()
    encoder.encode(texts[:64])  # warm-up
    cpu0, start = time.process_time(), time.perf_counter()
    vectors = encoder.encode(texts)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    peak = rss_mb()
    tokens = encoder.tokenize(texts)[1].sum(axis=1)

    from loupe.learning.text import TfidfFeaturizer

    start = time.perf_counter()
    featurizer = TfidfFeaturizer().fit(train)
    fit_s = time.perf_counter() - start
    cpu1, start = time.process_time(), time.perf_counter()
    matrix = featurizer.transform(texts)
    tf_wall, tf_cpu = time.perf_counter() - start, time.process_time() - cpu1

    print(
        f"{len(texts)} CLINC150 test utterances, {tokens.mean():.1f} word pieces on average "
        f"(max {tokens.max()}), one BLAS/OpenMP thread; load average {os.getloadavg()[0]:.1f}"
    )
    print("| encoder | load | sentences/s (wall) | sentences/s (CPU time) | peak RSS | output |")
    print("|---|---|---|---|---|---|")
    print(
        f"| MiniLM-L6 numpy float32 | {load_s:.2f} s | {len(texts) / wall:,.0f} | "
        f"{len(texts) / cpu:,.0f} | {peak:.0f} MiB ({base:.0f} before load, {loaded:.0f} "
        f"after) | {vectors.shape[1]} dense |"
    )
    print(
        f"| TF-IDF word+char (baseline) | fit on 15,100 texts {fit_s:.1f} s | "
        f"{len(texts) / tf_wall:,.0f} | {len(texts) / tf_cpu:,.0f} | {rss_mb():.0f} MiB "
        f"(cumulative) | {matrix.shape[1]:,} sparse |"
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
