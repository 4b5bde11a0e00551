"""Accuracy against gold of Loupe's aggregators and crowd-kit 1.4.2's, side by side.

Run: ``.venv/bin/python bench/aggregation/accuracy.py`` (prints a Markdown table).
Gold is used for scoring only, never shown to an aggregator.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import NAMES, Dataset, accuracy, load

from loupe.aggregation import AGGREGATORS, DEFAULT_METHOD

LOUPE_METHODS = ["mv", "ds", "ocds", "glad", "mace"]  # wmv needs external weights
CROWDKIT_METHODS = [
    "MajorityVote",
    "Wawa",
    "ZeroBasedSkill",
    "DawidSkene",
    "OneCoinDawidSkene",
    "GLAD",
    "MACE",
]


def loupe_runner(method: str) -> Callable[[Dataset], dict[str, str]]:
    def run(data: Dataset) -> dict[str, str]:
        model = AGGREGATORS[method](random_state=0)
        return model.fit_predict(data.items, data.workers, data.labels)  # type: ignore[return-value]

    return run


def crowdkit_runner(name: str) -> Callable[[Dataset], dict[str, str]]:
    import pandas as pd
    from crowdkit.aggregation import classification

    def run(data: Dataset) -> dict[str, str]:
        frame = pd.DataFrame({"task": data.items, "worker": data.workers, "label": data.labels})
        kwargs = {"random_state": 0} if name in ("MajorityVote", "Wawa", "MACE") else {}
        try:
            model = getattr(classification, name)(**kwargs)
        except TypeError:
            model = getattr(classification, name)()
        return {str(k): str(v) for k, v in model.fit_predict(frame).items()}

    return run


def timed(run: Callable[[Dataset], dict[str, str]], data: Dataset) -> str:
    start = time.perf_counter()
    try:
        predicted = run(data)
    except Exception as exc:  # a crowd-kit aggregator that breaks on this stack
        return f"error ({type(exc).__name__})"
    return f"{accuracy(predicted, data.gold):.4f} ({time.perf_counter() - start:.2f}s)"


def main() -> None:
    try:
        import crowdkit  # noqa: F401
    except ImportError:
        print("crowd-kit is not installed: pip install 'loupe[bench]'", file=sys.stderr)
        raise SystemExit(1) from None
    header = [f"loupe {m}" for m in LOUPE_METHODS] + [f"ck {m}" for m in CROWDKIT_METHODS]
    print("| dataset | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for name in NAMES:
        data = load(name)
        cells = [timed(loupe_runner(m), data) for m in LOUPE_METHODS]
        cells += [timed(crowdkit_runner(m), data) for m in CROWDKIT_METHODS]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nLoupe default method: {DEFAULT_METHOD}")


if __name__ == "__main__":
    main()
