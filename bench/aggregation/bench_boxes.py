"""Bounding-box fusion on SIMULATED crowds: speed at 100,000 images x 3 annotators, and
accuracy against the simulated ground truth, with two baselines in the same run.

Run (one core): ``OPENBLAS_NUM_THREADS=1 taskset -c 0 .venv/bin/python
bench/aggregation/bench_boxes.py [--tune] [--small]``

* speed: :class:`loupe.aggregation.boxes.BoxFusion` on a :class:`BoxAnswers` table of
  100,000 images x 3 annotators (skills estimated: 1 clustering pass + 2 EM rounds);
  building that table from answer dicts is timed separately;
* accuracy: fused boxes vs the ground truth of :mod:`loupe.simulation.boxes` — precision,
  recall and F1 at IoU 0.5 with the label matching, and the mean IoU of matched boxes — for
  the skill-weighted fusion, the *majority* baseline (unweighted: a box is kept when most of
  the image's annotators drew it, coordinates averaged, label by plain vote, same optimal
  matching), the *top-skill annotator* (each image takes the answer of its annotator with
  the highest estimated skill: a best-single-annotator rule one can run) and the *best
  single (oracle)* (the one annotator of the pool with the best F1 against the truth, on
  the images they answered, chosen with the truth: an upper reference, not a method).

The crowd: a pool of 30 simulated annotators, skill uniform in (0.35, 0.98), 3 per image.
Hyper-parameters were chosen on seeds 0-4 (``--tune``); the reported figures use seeds
100-104, never looked at while tuning.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from loupe.aggregation.boxes import BoxAnswers, BoxFusion, FusedBoxes, cluster_boxes, iou_pairs
from loupe.simulation.boxes import BoxCrowd, BoxScenes, simulate_scenes

LABELS = ("bottle", "cup", "phone", "sign", "card", "bag")
POOL = 30
PER_IMAGE = 3
SKILL = (0.35, 0.98)


@dataclass(frozen=True)
class Accuracy:
    precision: float
    recall: float
    f1: float
    mean_iou: float


def score(
    pred_item: np.ndarray, pred: np.ndarray, pred_labels: np.ndarray, scenes: BoxScenes
) -> Accuracy:
    """Micro-averaged P/R/F1 at IoU 0.5 with labels, by optimal matching per image.

    Reuses the fusion's optimal matcher: the truth and the prediction are two 'annotators'
    of one table; a true positive is a truth box and a predicted box in one cluster with
    the same label."""
    n = scenes.n_images
    answer_item = np.repeat(np.arange(n), 2)
    answer_worker = np.tile(np.arange(2), n)
    table = BoxAnswers(
        n_items=n,
        n_workers=2,
        answer_item=answer_item,
        answer_worker=answer_worker,
        box_answer=np.concatenate([scenes.box_item * 2, pred_item * 2 + 1]),
        boxes=np.concatenate([scenes.boxes, pred]),
        labels=np.concatenate([scenes.labels, pred_labels]),
        label_names=scenes.label_names,
    )
    # The truth weighs more: it seeds the clusters; label mismatches cost 1 in the matching.
    cluster = cluster_boxes(table, weights=[2.0, 1.0], label_penalty=1.0)
    order = np.argsort(cluster, kind="stable")
    cl = cluster[order]
    pair = np.flatnonzero(cl[1:] == cl[:-1])
    i, j = order[pair], order[pair + 1]
    both = table.labels[i] == table.labels[j]
    iou = iou_pairs(table.boxes[i], table.boxes[j])[both]
    tp = int(both.sum())
    precision = tp / max(len(pred), 1)
    recall = tp / max(len(scenes.boxes), 1)
    f1 = 2 * tp / max(len(pred) + len(scenes.boxes), 1)
    return Accuracy(precision, recall, f1, float(iou.mean()) if tp else 0.0)


def fused_score(result: FusedBoxes, scenes: BoxScenes) -> Accuracy:
    return score(result.box_item, result.boxes, result.labels, scenes)


def run_seed(seed: int, n_images: int, model: BoxFusion) -> dict[str, Accuracy]:
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(n_images, labels=LABELS, rng=rng)
    crowd = BoxCrowd.draw(POOL, skill=SKILL, rng=rng)
    table = crowd.annotate(scenes, rng=rng, per_image=PER_IMAGE)
    out = {"fusion": fused_score(model.fit(table).result_, scenes)}
    # The most skilled annotator of each image (skills as the fusion estimated them).
    answer_skill = model.skills_[table.answer_worker]
    top = np.lexsort((-answer_skill, table.answer_item))
    first = np.r_[True, table.answer_item[top][1:] != table.answer_item[top][:-1]]
    chosen = np.zeros(len(table.answer_item), dtype=bool)
    chosen[top[first]] = True
    mine = chosen[table.box_answer]
    out["top-skill annotator"] = score(
        table.answer_item[table.box_answer[mine]], table.boxes[mine], table.labels[mine], scenes
    )
    majority = BoxFusion(min_support=0.5, n_iter=0).fit(table, skills=np.full(POOL, 0.7))
    out["majority"] = fused_score(majority.result_, scenes)
    best: Accuracy | None = None
    box_worker = table.answer_worker[table.box_answer]
    for k in range(POOL):
        mine = box_worker == k
        seen = np.zeros(n_images, dtype=bool)
        seen[table.answer_item[table.answer_worker == k]] = True
        sub = BoxScenes(
            n_images=n_images,
            width=scenes.width,
            height=scenes.height,
            box_item=scenes.box_item[seen[scenes.box_item]],
            boxes=scenes.boxes[seen[scenes.box_item]],
            labels=scenes.labels[seen[scenes.box_item]],
            label_names=scenes.label_names,
        )
        acc = score(
            table.answer_item[table.box_answer[mine]], table.boxes[mine], table.labels[mine], sub
        )
        if best is None or acc.f1 > best.f1:
            best = acc
    assert best is not None
    out["best single (oracle)"] = best
    return out


def timing(n_images: int, repeats: int = 3) -> None:
    rng = np.random.default_rng(7)
    scenes = simulate_scenes(n_images, labels=LABELS, rng=rng)
    crowd = BoxCrowd.draw(POOL, skill=SKILL, rng=rng)
    table = crowd.annotate(scenes, rng=rng, per_image=PER_IMAGE)
    print(f"timing: {n_images:,} images x {PER_IMAGE} annotators, {len(table.boxes):,} boxes")
    for name, model, skills in (
        ("fusion (skills estimated, 2 EM rounds)", BoxFusion(), None),
        ("majority baseline (no EM)", BoxFusion(n_iter=0), np.full(POOL, 0.7)),
    ):
        best, best_cpu = float("inf"), float("inf")
        for _ in range(repeats):
            start, cpu = time.perf_counter(), time.process_time()
            model.fit(table, skills=skills)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(f"  {name:42s} best of {repeats}: {best:6.2f} s wall, {best_cpu:6.2f} s CPU")
    answers: list[dict[int, list[dict[str, object]]]] = [{} for _ in range(n_images)]
    names = table.label_names
    for a in range(len(table.answer_item)):
        answers[int(table.answer_item[a])][int(table.answer_worker[a])] = []
    for b in range(len(table.boxes)):
        a = int(table.box_answer[b])
        x, y, w, h = (float(v) for v in table.boxes[b])
        answers[int(table.answer_item[a])][int(table.answer_worker[a])].append(
            {"x": x, "y": y, "w": w, "h": h, "label": names[int(table.labels[b])]}
        )
    start = time.perf_counter()
    built = BoxAnswers.from_items(answers, labels=names)
    print(
        f"  {'table from answer dicts (from_items)':42s}        : "
        f"{time.perf_counter() - start:6.2f} s ({len(built.boxes):,} boxes)"
    )


def accuracy(seeds: range, n_images: int, model: BoxFusion) -> None:
    rows: dict[str, list[Accuracy]] = {}
    for seed in seeds:
        for name, acc in run_seed(seed, n_images, model).items():
            rows.setdefault(name, []).append(acc)
    print(
        f"accuracy vs SIMULATED truth, seeds {seeds.start}-{seeds.stop - 1}, "
        f"{n_images:,} images each, {model}"
    )
    print(f"  {'method':22s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'mean IoU':>9s}")
    for name, accs in rows.items():
        p, r, f, m = (
            np.mean([getattr(a, k) for a in accs])
            for k in ("precision", "recall", "f1", "mean_iou")
        )
        sd = np.std([a.f1 for a in accs])
        print(f"  {name:22s} {p:9.3f} {r:7.3f} {f:7.3f} ±{sd:.3f} {m:9.3f}")


def main() -> None:
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    small = "--small" in sys.argv
    n_acc = 2_000 if small else 20_000
    if "--tune" in sys.argv:
        for weighting in ("linear", "log_odds"):
            for min_support in (0.4, 0.5, 0.6):
                model = BoxFusion(weighting=weighting, min_support=min_support)
                accuracy(range(0, 5), n_acc, model)
        return
    timing(10_000 if small else 100_000)
    accuracy(range(100, 105), n_acc, BoxFusion())


if __name__ == "__main__":
    main()
