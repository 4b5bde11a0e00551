"""Candidate new intents on CLINC150: are unseen intents recovered as named clusters?

Some in-scope intents are held out as *unseen*: the model never learned them. Their
utterances, mixed with utterances of known intents the model wrongly flagged and with
CLINC150's own out-of-scope rows, are the flagged requests given to
:func:`loupe.selection.new_intents.find_new_intents` (the known intents' training rows are
its ``known_texts``). Measured against the true intents:

* **purity**: the share of clustered requests that belong to their cluster's majority intent;
* **ARI** (adjusted Rand index) over all flagged requests, each unclustered request its own
  group;
* **recovered**: the share of held-out intents that are the majority of some cluster holding
  at least half of their utterances.

Baselines in the same run: the same cluster sizes filled at random, and one cluster per
request. Parameters (``distance_threshold``, ``min_size``) are tuned on set A (20 intents
held out, their validation utterances) and reported on set B (20 *other* intents, their test
utterances), with distractors from the same split.

Run: ``.venv/bin/python bench/selection/bench_new_intents.py``; it skips with a message when
``../shared/data/intents`` is absent.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intents import DATA, available

from loupe.selection.new_intents import IntentCluster, find_new_intents
from loupe.simulation.datasets import LabelledTexts, load_jsonl

SEED = 0
HELD_OUT = 20
DISTRACTORS = 300  # known-intent utterances the model wrongly flagged
OOS_ROWS = 200  # CLINC150's out-of-scope rows of the same split
KNOWN_PER_INTENT = 20  # training rows per known intent given as known_texts
DEFAULTS = (0.8, 3)  # find_new_intents' distance_threshold and the service's MIN_SIZE
GRID = [(t, m) for t in (0.6, 0.7, 0.8, 0.85, 0.9) for m in (3, 5, 8)]


@dataclass(frozen=True)
class Scores:
    clusters: int
    purity: float
    ari: float
    recovered: float


def _flagged(split: LabelledTexts, unseen: set[str], known: list[str], rng: np.random.Generator):
    texts, labels = [], []
    rows = list(zip(split.texts, split.labels, strict=True))
    texts += [t for t, label in rows if label in unseen]
    labels += [label for t, label in rows if label in unseen]
    known_rows = [(t, label) for t, label in rows if label in set(known)]
    for i in rng.choice(len(known_rows), DISTRACTORS, replace=False):
        texts.append(known_rows[i][0])
        labels.append("known:" + known_rows[i][1])
    oos = [t for t, label in rows if label == "oos"]
    for i in rng.choice(len(oos), min(OOS_ROWS, len(oos)), replace=False):
        texts.append(oos[i])
        labels.append("oos")
    return texts, labels


def _score(groups: list[tuple[int, ...]], labels: list[str], unseen: set[str]) -> Scores:
    assigned = np.arange(len(labels)) + len(labels)  # unclustered: a group of its own
    majority_hits, clustered, recovered = 0, 0, set()
    totals = Counter(labels)
    for number, members in enumerate(groups):
        assigned[list(members)] = number
        top, count = Counter(labels[m] for m in members).most_common(1)[0]
        majority_hits += count
        clustered += len(members)
        if top in unseen and count >= totals[top] / 2:
            recovered.add(top)
    return Scores(
        clusters=len(groups),
        purity=majority_hits / clustered if clustered else 0.0,
        ari=float(adjusted_rand_score(labels, assigned)),
        recovered=len(recovered) / len(unseen),
    )


def _random_groups(found: list[IntentCluster], n: int, rng: np.random.Generator):
    order = rng.permutation(n)
    groups, start = [], 0
    for cluster in found:
        groups.append(tuple(order[start : start + cluster.size].tolist()))
        start += cluster.size
    return groups


def _run(texts, labels, known_texts, unseen, threshold, min_size) -> tuple[Scores, list]:
    found = find_new_intents(
        texts, [1.0] * len(texts), known_texts, distance_threshold=threshold, min_size=min_size
    )
    return _score([c.members for c in found], labels, unseen), found


@dataclass(frozen=True)
class Clinc:
    """CLINC150's splits, the two held-out sets, the known intents and their texts."""

    splits: dict[str, LabelledTexts]
    sets: dict[str, set[str]]
    known: list[str]
    known_texts: list[str]


def clinc(rng: np.random.Generator) -> Clinc:
    """The data both new-intents benches use; draws the held-out sets from ``rng``."""
    root = DATA / "clinc150"
    train = load_jsonl(root / "train.jsonl", text_field="text", label_field="intent")
    splits = {
        "validation": load_jsonl(
            root / "validation.jsonl", text_field="text", label_field="intent"
        ),
        "test": load_jsonl(root / "test.jsonl", text_field="text", label_field="intent"),
    }
    intents = sorted(set(train.labels) - {"oos"})
    drawn = rng.permutation(intents).tolist()
    sets = {"A": set(drawn[:HELD_OUT]), "B": set(drawn[HELD_OUT : 2 * HELD_OUT])}
    known = sorted(set(intents) - sets["A"] - sets["B"])
    per: Counter[str] = Counter()
    known_texts = []
    for text, label in zip(train.texts, train.labels, strict=True):
        if label in known and per[label] < KNOWN_PER_INTENT:
            per[label] += 1
            known_texts.append(text)
    return Clinc(splits, sets, known, known_texts)


def main() -> int:
    missing = available()
    if missing:
        print(missing)
        return 0
    rng = np.random.default_rng(SEED)
    data = clinc(rng)
    splits, sets, known, known_texts = data.splits, data.sets, data.known, data.known_texts
    print(
        f"CLINC150: {len(known)} known intents ({len(known_texts)} known texts), "
        f"set A {sorted(sets['A'])[:5]}..., set B {sorted(sets['B'])[:5]}..."
    )
    texts_a, labels_a = _flagged(splits["validation"], sets["A"], known, rng)
    print(f"\nTuning on set A (validation split, {len(texts_a)} flagged requests)")
    print("threshold min_size clusters purity   ARI  recovered")
    best = None
    for threshold, min_size in GRID:
        scores, _ = _run(texts_a, labels_a, known_texts, sets["A"], threshold, min_size)
        print(
            f"{threshold:9.2f} {min_size:8d} {scores.clusters:8d} {scores.purity:6.3f} "
            f"{scores.ari:5.3f} {scores.recovered:9.2f}"
        )
        key = (scores.recovered, scores.ari)
        if best is None or key > best[0]:
            best = (key, threshold, min_size)
    assert best is not None
    _, threshold, min_size = best
    texts_b, labels_b = _flagged(splits["test"], sets["B"], known, rng)
    start = time.perf_counter()
    scores, found = _run(texts_b, labels_b, known_texts, sets["B"], threshold, min_size)
    seconds = time.perf_counter() - start
    default, _ = _run(texts_b, labels_b, known_texts, sets["B"], *DEFAULTS)
    rand = _score(_random_groups(found, len(texts_b), rng), labels_b, sets["B"])
    single = _score([], labels_b, sets["B"])
    print(
        f"\nReported on set B (test split, {len(texts_b)} flagged requests; "
        f"threshold {threshold}, min_size {min_size}; {seconds:.1f} s)"
    )
    print("method                 clusters purity   ARI  recovered")
    for name, s in (
        ("tuned on set A", scores),
        ("defaults (0.8, 3)", default),
        ("random, same sizes", rand),
        ("one per request", single),
    ):
        print(f"{name:22s} {s.clusters:8d} {s.purity:6.3f} {s.ari:5.3f} {s.recovered:9.2f}")
    print("\nNamed clusters on set B (name: size, majority intent):")
    for cluster in found[:12]:
        top, count = Counter(labels_b[m] for m in cluster.members).most_common(1)[0]
        print(f"  {cluster.name}: {cluster.size}, {top} ({count})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
