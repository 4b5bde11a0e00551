"""Leave-one-dataset-out: Loupe's default aggregator against crowd-kit 1.4.2 on held-out sets.

Run: ``.venv/bin/python bench/aggregation/lodo.py`` (prints a Markdown table; needs crowd-kit,
``pip install 'loupe[bench]'``, and ``../shared/data/crowd``).

For each development dataset in turn, that set is the target and the other four are the only
data any selection may look at. Loupe's default (``DEFAULT_METHOD``, Dawid-Skene with an
empirical-Bayes prior) selects its prior strength on the target's own answers, without gold and
without the other sets, so it needs no selection step at all. For contrast, the ``fixed, LODO``
column tunes the old constant pseudo-counts on the other four sets (mean accuracy over a small
grid) and applies the winner to the target. Gold only scores; no aggregator ever sees it.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import NAMES, Dataset, accuracy, load

from loupe.aggregation import AGGREGATORS, DEFAULT_METHOD, DawidSkene

CROWDKIT_METHODS = (
    "MajorityVote",
    "DawidSkene",
    "OneCoinDawidSkene",
    "GLAD",
    "MACE",
    "Wawa",
    "ZeroBasedSkill",
)
FIXED_GRID = ((0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (1.0, 0.0), (5.0, 1.0))
"""(prior_correct, prior_wrong) pseudo-counts the LODO contrast may tune over."""

Predict = Callable[[Dataset], dict[str, str]]


def as_str(labels: dict[object, object]) -> dict[str, str]:
    return {str(item): str(label) for item, label in labels.items()}


def loupe_default(data: Dataset) -> dict[str, str]:
    model = AGGREGATORS[DEFAULT_METHOD](random_state=0)
    return as_str(model.fit_predict(data.items, data.workers, data.labels))


def loupe_fixed(correct: float, wrong: float) -> Predict:
    def run(data: Dataset) -> dict[str, str]:
        model = DawidSkene(prior="fixed", prior_correct=correct, prior_wrong=wrong, random_state=0)
        return as_str(model.fit_predict(data.items, data.workers, data.labels))

    return run


def crowdkit_runner(name: str) -> Predict:
    import pandas as pd
    from crowdkit.aggregation import classification

    def run(data: Dataset) -> dict[str, str]:
        frame = pd.DataFrame({"task": data.items, "worker": data.workers, "label": data.labels})
        cls = getattr(classification, name)
        kwargs = {"random_state": 0} if "random_state" in inspect.signature(cls).parameters else {}
        return as_str(dict(cls(**kwargs).fit_predict(frame).items()))

    return run


def correct_count(predicted: dict[str, str], data: Dataset) -> int:
    return sum(predicted.get(item) == label for item, label in data.gold.items())


def gold_table(data: dict[str, Dataset], names: list[str], share: float) -> None:
    """Projects with gold: reveal a seeded ``share`` of each set's gold to the aggregators
    (Loupe clamps it; crowd-kit DS takes it as ``true_labels``) and score the hidden rest."""
    import random

    import pandas as pd
    from crowdkit.aggregation import DawidSkene as CrowdKitDS

    print(f"\nWith {share:.0%} of the gold revealed (seed 0), scored on the hidden gold:\n")
    print(
        "| dataset | hidden gold | **Loupe default + gold** | Loupe default, no gold | ck DS + gold |"
    )
    print("|---|---|---|---|---|")
    for name in names:
        full = data[name]
        gold_items = sorted(full.gold)
        shown = set(random.Random(0).sample(gold_items, round(share * len(gold_items))))
        revealed = {item: full.gold[item] for item in gold_items if item in shown}
        hidden = Dataset(
            name,
            full.items,
            full.workers,
            full.labels,
            {item: label for item, label in full.gold.items() if item not in shown},
        )
        model = AGGREGATORS[DEFAULT_METHOD](random_state=0)
        with_gold = as_str(model.fit_predict(full.items, full.workers, full.labels, gold=revealed))
        frame = pd.DataFrame({"task": full.items, "worker": full.workers, "label": full.labels})
        ck = as_str(dict(CrowdKitDS().fit_predict(frame, pd.Series(revealed)).items()))
        n = len(hidden.gold)
        cells = [correct_count(p, hidden) / n for p in (with_gold, loupe_default(full), ck)]
        print(
            f"| {name} | {n} | **{cells[0]:.4f}** ({getattr(model, 'prior_used_', '-')})"
            f" | {cells[1]:.4f}"
            f" | {cells[2]:.4f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(NAMES), choices=NAMES)
    parser.add_argument(
        "--gold-share",
        type=float,
        default=0.0,
        help="instead: reveal this share of gold to the aggregators (projects with gold)",
    )
    args = parser.parse_args()
    try:
        import crowdkit  # noqa: F401
    except ImportError:
        print("crowd-kit is not installed: pip install 'loupe[bench]'", file=sys.stderr)
        raise SystemExit(1) from None
    data = {name: load(name) for name in NAMES}
    if args.gold_share > 0:
        gold_table(data, args.datasets, args.gold_share)
        return

    # Accuracy of every fixed-prior grid point on every set (used only leave-one-out).
    fixed = {
        (name, point): accuracy(loupe_fixed(*point)(data[name]), data[name].gold)
        for name in NAMES
        for point in FIXED_GRID
    }

    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for name in args.datasets:
        target = data[name]
        others = [other for other in NAMES if other != name]
        tuned = max(FIXED_GRID, key=lambda p: (sum(fixed[(o, p)] for o in others), -p[0] - p[1]))
        start = time.perf_counter()
        ours = correct_count(loupe_default(target), target)
        ours_s = time.perf_counter() - start
        ck: dict[str, int] = {}
        for method in CROWDKIT_METHODS:
            try:
                ck[method] = correct_count(crowdkit_runner(method)(target), target)
            except Exception as exc:  # a crowd-kit aggregator that breaks on this stack
                failures.append(f"{name}: {method} failed ({type(exc).__name__}: {exc})"[:160])
        best = max(ck, key=lambda m: ck[m])
        rows.append(
            {
                "name": name,
                "n": len(target.gold),
                "ours": ours,
                "ours_s": ours_s,
                "ds": ck.get("DawidSkene"),
                "best": best,
                "best_n": ck[best],
                "tuned": tuned,
                "tuned_n": round(fixed[(name, tuned)] * len(target.gold)),
                "ck": ck,
            }
        )
        print(f"done {name}", file=sys.stderr, flush=True)

    print(
        "| dataset | gold items | **Loupe default** | crowd-kit DS | default - ck DS"
        " | crowd-kit best | default - ck best | fixed prior, LODO-tuned |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        n = int(str(row["n"]))
        ours, ds, best_n, tuned_n = (int(str(row[k])) for k in ("ours", "ds", "best_n", "tuned_n"))
        print(
            f"| {row['name']} | {n} | **{ours / n:.4f}** | {ds / n:.4f} | {ours - ds:+d} items"
            f" | {best_n / n:.4f} ({row['best']}) | {ours - best_n:+d} items"
            f" | {tuned_n / n:.4f} {row['tuned']} |"
        )
    mean = {
        k: sum(int(str(r[k])) / int(str(r["n"])) for r in rows) / len(rows)
        for k in ("ours", "ds", "best_n", "tuned_n")
    }
    print(
        f"| **average** | | **{mean['ours']:.4f}** | {mean['ds']:.4f} |"
        f" {mean['ours'] - mean['ds']:+.4f} | {mean['best_n']:.4f} (per-set best) |"
        f" {mean['ours'] - mean['best_n']:+.4f} | {mean['tuned_n']:.4f} |"
    )
    print(f"\nLoupe default: {DEFAULT_METHOD} = {AGGREGATORS[DEFAULT_METHOD]()!r}")
    print("crowd-kit mean accuracy per method (sets where it ran):")
    for method in CROWDKIT_METHODS:
        scores = [
            r["ck"][method] / int(str(r["n"]))  # type: ignore[index]
            for r in rows
            if method in r["ck"]  # type: ignore[operator]
        ]
        if scores:
            print(f"- {method}: {sum(scores) / len(scores):.4f} over {len(scores)} sets")
    for failure in failures:
        print(f"- {failure}")


if __name__ == "__main__":
    main()
