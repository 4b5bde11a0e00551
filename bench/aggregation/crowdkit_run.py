"""One crowd-kit 1.4.2 aggregation as a whole process, for ``speed_cli.py`` to time.

Run: ``python bench/aggregation/crowdkit_run.py ANSWERS.csv METHOD OUT.csv`` with METHOD one of
``mv``, ``ds``, ``glad``. Reads ``item,worker,label`` with pandas (crowd-kit's input), fits,
writes ``item,label``, and prints ``{"read_s": ..., "fit_s": ...}`` as JSON on standard output.
"""

from __future__ import annotations

import json
import sys
import time

TOL = 1e-5
MAX_ITER = 100


def main() -> None:
    import pandas as pd  # type: ignore[import-untyped]
    from crowdkit.aggregation import GLAD, DawidSkene, MajorityVote

    path, method, out = sys.argv[1:4]
    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str).rename(columns={"item": "task"})
    read_s = time.perf_counter() - start
    models = {
        "mv": lambda: MajorityVote(),
        "ds": lambda: DawidSkene(n_iter=MAX_ITER, tol=TOL),
        "glad": lambda: GLAD(n_iter=MAX_ITER, tol=TOL),
    }
    start = time.perf_counter()
    labels = models[method]().fit_predict(frame)  # type: ignore[no-untyped-call]
    fit_s = time.perf_counter() - start
    labels.rename("label").rename_axis("item").to_csv(out)
    print(json.dumps({"read_s": read_s, "fit_s": fit_s}))


if __name__ == "__main__":
    main()
