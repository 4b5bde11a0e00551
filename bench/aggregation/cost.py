"""Dynamic overlap: replay each dataset answer by answer and stop items once confident.

Each item's answers are replayed in a seeded random order (the files' row order is not
chronological: bluebirds is sorted by worker), items in a seeded random order. After each
answer the item's live posterior (:func:`loupe.aggregation.item_posterior`) is computed from the
current worker skills; the item stops when :class:`StoppingRule` says ``done`` (or escalates at
the end of its answers). Skills come from refitting Dawid-Skene on the answers collected so far
every ``REFIT_SHARE`` of the items (unknown workers get ``DEFAULT_ACCURACY``). The final labels are
Dawid-Skene fitted on the collected answers only, scored against gold as in accuracy.py.

Run: ``.venv/bin/python bench/aggregation/cost.py``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import NAMES, Dataset, accuracy, load

from loupe.aggregation import (
    DawidSkene,
    StoppingRule,
    WorkerSkills,
    item_posterior,
)

TARGETS = (0.9, 0.95, 0.99, 0.999)
MIN_LABELS = 2
DEFAULT_ACCURACY = 0.7
REFIT_SHARE = 0.05
SEED = 0


def replay(data: Dataset, target: float) -> tuple[int, float]:
    """Answers used and gold accuracy with dynamic overlap at ``target``."""
    rng = np.random.default_rng(SEED)
    answers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item, worker, label in zip(data.items, data.workers, data.labels, strict=True):
        answers[item].append((worker, label))
    order = sorted(answers)
    rng.shuffle(order)
    classes = tuple(sorted(set(data.labels)))
    rule = StoppingRule(target=target, min_labels=MIN_LABELS, max_labels=10**9)
    skills = WorkerSkills(classes, default_accuracy=DEFAULT_ACCURACY)
    refit_every = max(1, int(REFIT_SHARE * len(order)))
    kept_items: list[str] = []
    kept_workers: list[str] = []
    kept_labels: list[str] = []
    for position, item in enumerate(order):
        if position and position % refit_every == 0:
            model = DawidSkene(classes=classes).fit(kept_items, kept_workers, kept_labels)
            skills = WorkerSkills.from_model(model, default_accuracy=DEFAULT_ACCURACY)
        pool = answers[item]
        seen_workers: list[str] = []
        seen_labels: list[str] = []
        for index in rng.permutation(len(pool)):
            worker, label = pool[index]
            seen_workers.append(worker)
            seen_labels.append(label)
            if rule.decide(item_posterior(skills, seen_workers, seen_labels)) == "done":
                break
        kept_items += [item] * len(seen_workers)
        kept_workers += seen_workers
        kept_labels += seen_labels
    final = DawidSkene(classes=classes).fit_predict(kept_items, kept_workers, kept_labels)
    return len(kept_labels), accuracy(final, data.gold)  # type: ignore[arg-type]


def main() -> None:
    print(
        f"min_labels={MIN_LABELS}, unknown-worker accuracy={DEFAULT_ACCURACY}, refit DS every "
        f"{REFIT_SHARE:.0%} of items, seed={SEED}\n"
    )
    header = ["all answers"] + [f"target {t}" for t in TARGETS]
    print("| dataset | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for name in NAMES:
        data = load(name)
        full = accuracy(DawidSkene().fit_predict(data.items, data.workers, data.labels), data.gold)  # type: ignore[arg-type]
        cells = [f"{full:.4f} / {len(data.labels):,} (100%)"]
        for target in TARGETS:
            used, acc = replay(data, target)
            cells.append(f"{acc:.4f} / {used:,} ({used / len(data.labels):.0%})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print("\nCells: DS accuracy on gold / answers used (share of all answers).")


if __name__ == "__main__":
    main()
