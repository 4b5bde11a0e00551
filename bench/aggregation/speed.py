"""Dawid-Skene on 1,000,000 synthetic answers: Loupe vs crowd-kit 1.4.2, same tolerance.

Run: ``.venv/bin/python bench/aggregation/speed.py`` (``--small`` for a 10x smaller smoke run).
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import generate

from loupe.aggregation import DawidSkene

TOL = 1e-5
MAX_ITER = 100


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    small = "--small" in sys.argv
    crowd = generate(n_items=20_000 if small else 200_000, n_workers=200 if small else 2_000)
    print(
        f"answers: {len(crowd.labels):,}  items: {len(crowd.truth):,}  "
        f"workers: {crowd.workers.max() + 1:,}"
    )
    print(
        f"tol={TOL} max_iter={MAX_ITER} "
        f"(crowd-kit: per-answer ELBO change < tol, n_iter={MAX_ITER})"
    )

    start = time.perf_counter()
    model = DawidSkene(tol=TOL, max_iter=MAX_ITER).fit(crowd.items, crowd.workers, crowd.labels)
    loupe_s = time.perf_counter() - start
    predicted = np.asarray(model.predict(), dtype=np.int64)
    loupe_acc = float((predicted == crowd.truth[np.asarray(model.items_, dtype=np.int64)]).mean())
    rss_after_loupe = max_rss_mib()

    tracemalloc.start()
    DawidSkene(tol=TOL, max_iter=MAX_ITER).fit(crowd.items, crowd.workers, crowd.labels)
    _, loupe_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"loupe DS: {loupe_s:.2f}s, {model.n_iter_} iterations, accuracy {loupe_acc:.4f}, "
        f"peak traced memory {loupe_peak / 2**20:.0f} MiB, "
        f"process max RSS {rss_after_loupe:.0f} MiB"
    )

    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene as CrowdKitDS
    except ImportError:
        print("crowd-kit not installed: skipping the comparison", file=sys.stderr)
        return
    frame = pd.DataFrame({"task": crowd.items, "worker": crowd.workers, "label": crowd.labels})
    start = time.perf_counter()
    ck = CrowdKitDS(n_iter=MAX_ITER, tol=TOL).fit(frame)
    ck_s = time.perf_counter() - start
    ck_labels = ck.labels_
    ck_acc = float((ck_labels.to_numpy() == crowd.truth[ck_labels.index.to_numpy()]).mean())
    print(
        f"crowd-kit DS: {ck_s:.2f}s, {len(ck.loss_history_)} iterations, accuracy {ck_acc:.4f}, "
        f"process max RSS {max_rss_mib():.0f} MiB"
    )
    print(f"speed ratio (crowd-kit / loupe): {ck_s / loupe_s:.1f}x")


if __name__ == "__main__":
    main()
