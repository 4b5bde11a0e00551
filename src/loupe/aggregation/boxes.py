"""Bounding-box consensus: match boxes across annotators, fuse them with skill weights.

An answer is a list of ``{"x", "y", "w", "h", "label"}`` boxes in pixels (origin top left).
The batch aggregator reads a long table (:class:`BoxAnswers`: one row per (item, worker)
answer, one row per box) and works on whole arrays, so 100,000 images go in seconds.

**Matching** (one pass per item). The item's answers are put in a canonical order — the
heaviest worker first, then the one with most boxes, then a hash of the boxes, so that the
result never depends on the order annotators or boxes came in. The first answer seeds one
cluster per box; each next answer is matched to the clusters so far by an *optimal*
assignment (the assignment problem of Kuhn 1955, solved by
:func:`scipy.optimize.linear_sum_assignment`, Crouse 2016)
on the cost ``1 - IoU`` (+ ``label_penalty`` when the labels differ), allowing only pairs
with ``IoU >= iou_threshold``; a cluster's position is the weighted mean of its members so
far; an unmatched box starts a new cluster. Where every box has at most one candidate
cluster and every cluster at most one candidate box — nearly always — that assignment is
read off the arrays directly (it is then the optimum); only items with competing
candidates go through ``linear_sum_assignment`` one by one. Each annotator puts at most one
box in a cluster.

**Fusion.** A cluster's box is the skill-weighted mean of its members' coordinates and its
label the weighted vote (ties: the first label in sorted order). Its *support* is the
weight of the annotators who drew it over the weight of all the item's annotators (an
annotator who drew nothing counts); a cluster is kept when support ``>= min_support``.

**Skills** (when not given): every worker starts at weight 1; then ``n_iter`` EM-style
rounds estimate each worker's skill as their panoptic quality against the fused boxes
(Kirillov et al. 2019: F1 at ``iou_threshold`` with label match, times the mean IoU of
their matched boxes; both smoothed towards a prior with ``prior_strength`` pseudo-boxes)
and fuse again with weight ``skill`` (``weighting="linear"``) or ``log(skill / (1 -
skill))`` (``"log_odds"``). Matching is done once, with the starting weights.

**Confidence** of an item: the mean, over its clusters, of how surely the decision on each
holds — ``support x mean IoU of the members to the fused box`` for a kept box,
``1 - support`` for a dropped one; 1.0 when nobody drew anything. Identical answers give
1.0. **Agreement**: the mean over pairs of annotators of ``sum of IoU of their matched
boxes / (n_a + n_b - matched)`` (1.0 for two empty answers; NaN with one annotator).

>>> fused = fuse_boxes({
...     "ann": [{"x": 10, "y": 10, "w": 100, "h": 50, "label": "cup"}],
...     "bob": [{"x": 12, "y": 10, "w": 100, "h": 50, "label": "cup"}],
...     "cid": [],
... })
>>> fused.boxes
[{'x': 11.0, 'y': 10.0, 'w': 100.0, 'h': 50.0, 'label': 'cup'}]
>>> round(fused.support[0], 3), round(fused.confidence, 3)
(0.667, 0.653)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from loupe.errors import InvalidInput

__all__ = [
    "GOLD_PASS_F1",
    "IOU_THRESHOLD",
    "BoxAnswers",
    "BoxFusion",
    "BoxScore",
    "FusedBoxes",
    "FusedItem",
    "ItemConsensus",
    "box_score",
    "cluster_boxes",
    "fuse_boxes",
    "iou_matrix",
    "iou_pairs",
    "item_skills",
]

IOU_THRESHOLD = 0.5
"""Two boxes are the same object at this IoU or more (PASCAL VOC; Everingham et al. 2010)."""
GOLD_PASS_F1 = 0.8
"""An answer to a gold item passes at this F1 (at :data:`IOU_THRESHOLD`, labels matching)."""

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Weighting = Literal["linear", "log_odds"]
_FORBIDDEN = 1e6
_HASH = np.array([12.9898, 78.233, 37.719, 4.581, 91.123])


def iou_pairs(a: Floats, b: Floats) -> Floats:
    """IoU of ``a[i]`` and ``b[i]`` for each row of two ``(n, 4)`` arrays of ``x, y, w, h``.

    >>> iou_pairs(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 0, 10, 10]])).round(3).tolist()
    [0.333]
    """
    ix = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    iy = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.clip(ix, 0.0, None) * np.clip(iy, 0.0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.asarray(out, dtype=np.float64)


def iou_matrix(a: Floats, b: Floats) -> Floats:
    """The ``(n, m)`` IoU matrix of two box arrays (``x, y, w, h`` rows), vectorised.

    >>> iou_matrix(np.array([[0.0, 0, 10, 10]]), np.array([[0.0, 0, 10, 10], [20.0, 0, 5, 5]]))
    array([[1., 0.]])
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return iou_pairs(a[:, None, :], b[None, :, :])


# --- the long table ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxAnswers:
    """Box answers as arrays: one row per (item, worker) answer and one per box.

    ``answer_item``/``answer_worker``: the item and worker (indices) of each answer, an
    empty answer included; ``box_answer``: the answer each box belongs to; ``boxes``:
    ``(n, 4)`` ``x, y, w, h``; ``labels``: indices into ``label_names``.
    """

    n_items: int
    n_workers: int
    answer_item: Ints
    answer_worker: Ints
    box_answer: Ints
    boxes: Floats
    labels: Ints
    label_names: tuple[str, ...]
    workers: tuple[Hashable, ...] = ()

    def __post_init__(self) -> None:
        n_answers = len(self.answer_item)
        if len(self.answer_worker) != n_answers:
            raise InvalidInput("answer_item and answer_worker differ in length")
        if self.boxes.shape != (len(self.box_answer), 4) or len(self.labels) != len(
            self.box_answer
        ):
            raise InvalidInput("boxes must be (n, 4) with one label and one answer per box")
        if n_answers and (self.answer_item.min() < 0 or self.answer_item.max() >= self.n_items):
            raise InvalidInput("answer_item out of range")
        if n_answers and (
            self.answer_worker.min() < 0 or self.answer_worker.max() >= self.n_workers
        ):
            raise InvalidInput("answer_worker out of range")
        if len(self.box_answer) and (
            self.box_answer.min() < 0 or self.box_answer.max() >= n_answers
        ):
            raise InvalidInput("box_answer out of range")
        if len(self.labels) and (
            self.labels.min() < 0 or self.labels.max() >= len(self.label_names)
        ):
            raise InvalidInput("labels out of range")
        if not np.isfinite(self.boxes).all() or (self.boxes[:, 2:] <= 0).any():
            raise InvalidInput("boxes must be finite with positive width and height")
        pairs = self.answer_item * max(self.n_workers, 1) + self.answer_worker
        if len(np.unique(pairs)) != n_answers:
            raise InvalidInput("a worker answers an item at most once")

    @classmethod
    def from_items(
        cls,
        items: Sequence[Mapping[Any, Sequence[Mapping[str, Any]]]],
        *,
        labels: Sequence[str] | None = None,
    ) -> BoxAnswers:
        """One ``{worker: boxes}`` mapping per item (``boxes`` as in a canonical answer).

        ``labels``: the label names (default: every label seen, sorted).
        """
        workers: dict[Hashable, int] = {}
        answer_item: list[int] = []
        answer_worker: list[int] = []
        box_answer: list[int] = []
        coords: list[tuple[float, float, float, float]] = []
        names: list[str] = []
        for item_index, answers in enumerate(items):
            for worker, boxes in answers.items():
                answer = len(answer_item)
                answer_item.append(item_index)
                answer_worker.append(workers.setdefault(worker, len(workers)))
                for box in boxes:
                    box_answer.append(answer)
                    coords.append((box["x"], box["y"], box["w"], box["h"]))
                    names.append(box["label"])
        label_names = tuple(sorted(set(names))) if labels is None else tuple(labels)
        index = {name: i for i, name in enumerate(label_names)}
        unknown = sorted(set(names) - set(index))
        if unknown:
            raise InvalidInput(f"labels not in the label set: {', '.join(unknown[:5])}")
        return cls(
            n_items=len(items),
            n_workers=len(workers),
            answer_item=np.asarray(answer_item, dtype=np.int64),
            answer_worker=np.asarray(answer_worker, dtype=np.int64),
            box_answer=np.asarray(box_answer, dtype=np.int64),
            boxes=np.asarray(coords, dtype=np.float64).reshape(-1, 4),
            labels=np.asarray([index[name] for name in names], dtype=np.int64),
            label_names=label_names,
            workers=tuple(workers),
        )


@dataclass(frozen=True)
class FusedBoxes:
    """The fused boxes of every item: ``box_item``, ``boxes``, ``labels`` and ``support``
    per fused box (sorted by item, then ``x, y, w, h, label``); per item ``confidence`` and
    ``agreement``; per worker ``skills``."""

    box_item: Ints
    boxes: Floats
    labels: Ints
    support: Floats
    confidence: Floats
    agreement: Floats
    skills: Floats
    label_names: tuple[str, ...]

    def item(self, index: int, *, decimals: int = 1) -> list[dict[str, Any]]:
        """Item ``index``'s fused boxes as answer dicts, coordinates rounded."""
        lo, hi = np.searchsorted(self.box_item, [index, index + 1])
        return [
            {
                "x": round(float(x), decimals),
                "y": round(float(y), decimals),
                "w": round(float(w), decimals),
                "h": round(float(h), decimals),
                "label": self.label_names[int(label)],
            }
            for (x, y, w, h), label in zip(self.boxes[lo:hi], self.labels[lo:hi], strict=True)
        ]


# --- the aggregator ------------------------------------------------------------------------


@dataclass
class BoxFusion:
    """Match boxes across annotators optimally and fuse them with worker-skill weights.

    See the module docstring for the maths. ``fit(table, skills=None)``; with ``skills``
    (one per worker, in ``(0, 1)``) no skill is estimated.

    >>> table = BoxAnswers.from_items([{
    ...     "a": [{"x": 0, "y": 0, "w": 10, "h": 10, "label": "cat"}],
    ...     "b": [{"x": 1, "y": 0, "w": 10, "h": 10, "label": "cat"}],
    ... }])
    >>> model = BoxFusion().fit(table)
    >>> model.result_.item(0)
    [{'x': 0.5, 'y': 0.0, 'w': 10.0, 'h': 10.0, 'label': 'cat'}]
    """

    iou_threshold: float = IOU_THRESHOLD
    min_support: float = 0.5
    n_iter: int = 2
    label_penalty: float = 0.1
    weighting: Weighting = "linear"
    prior_skill: float = 0.7
    prior_strength: float = 2.0
    result_: FusedBoxes = field(init=False, repr=False)
    skills_: Floats = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.iou_threshold <= 1.0:
            raise InvalidInput("iou_threshold must be in (0, 1]", details={"field": "iou"})
        if not 0.0 < self.min_support <= 1.0:
            raise InvalidInput("min_support must be in (0, 1]", details={"field": "min_support"})
        if self.n_iter < 0:
            raise InvalidInput("n_iter must be >= 0", details={"field": "n_iter"})

    def fit(self, table: BoxAnswers, skills: Floats | Sequence[float] | None = None) -> BoxFusion:
        given = skills is not None
        skill = (
            np.clip(np.asarray(skills, dtype=np.float64), 1e-3, 1 - 1e-3)
            if given
            else np.full(table.n_workers, self.prior_skill)
        )
        if skill.shape != (table.n_workers,):
            raise InvalidInput("skills: one per worker", details={"field": "skills"})
        weight = self._weight(skill) if given else np.ones(table.n_workers)
        prepared = _prepare(table, weight)
        cluster = _cluster(prepared, weight, self.iou_threshold, self.label_penalty)
        fused = _fuse(prepared, cluster, weight, table, self.min_support)
        if not given:
            for _ in range(self.n_iter):
                skill = _skills(prepared, cluster, fused, table, self)
                weight = self._weight(skill)
                fused = _fuse(prepared, cluster, weight, table, self.min_support)
        self.skills_ = skill
        self.result_ = _finish(prepared, cluster, fused, table, skill)
        return self

    def _weight(self, skill: Floats) -> Floats:
        skill = np.clip(skill, 1e-3, 1 - 1e-3)
        if self.weighting == "linear":
            return skill
        return np.asarray(np.clip(np.log(skill / (1 - skill)), 1e-3, None), dtype=np.float64)


@dataclass(frozen=True)
class _Prepared:
    """Boxes in canonical order (item, rank of the answer, a hash of the box)."""

    boxes: Floats
    labels: Ints
    item: Ints
    worker: Ints
    answer: Ints
    rank: Ints
    n_ranks: int
    answer_order: Ints  # the answers by (item, rank)
    perm: Ints  # the table's box index of each box here


def _prepare(table: BoxAnswers, weight: Floats) -> _Prepared:
    n_answers = len(table.answer_item)
    boxes, labels, box_answer = table.boxes, table.labels, table.box_answer
    n_boxes = np.bincount(box_answer, minlength=n_answers)
    mix = np.sin(np.concatenate([boxes, labels[:, None]], axis=1) @ _HASH) * 43758.5453
    content = np.bincount(box_answer, mix - np.floor(mix), minlength=n_answers)
    # Canonical order of an item's answers: heaviest worker, most boxes, then content.
    order = np.lexsort(
        (np.round(content, 9), -n_boxes, -weight[table.answer_worker], table.answer_item)
    )
    sorted_items = table.answer_item[order]
    first = np.searchsorted(sorted_items, sorted_items, side="left")
    rank = np.empty(n_answers, dtype=np.int64)
    rank[order] = np.arange(n_answers) - first
    position = np.empty(n_answers, dtype=np.int64)
    position[order] = np.arange(n_answers)
    box_item = table.answer_item[box_answer]
    box_rank = rank[box_answer]
    # Boxes by answer in canonical order, then by content (the hash: only equal boxes tie).
    perm = np.lexsort((mix, position[box_answer]))
    return _Prepared(
        boxes=boxes[perm],
        labels=labels[perm],
        item=box_item[perm],
        worker=table.answer_worker[box_answer[perm]],
        answer=box_answer[perm],
        rank=box_rank[perm],
        n_ranks=int(rank.max()) + 1 if n_answers else 0,
        answer_order=order,
        perm=perm,
    )


def _cluster(p: _Prepared, weight: Floats, threshold: float, penalty: float) -> Ints:
    """The cluster of each box (clusters numbered in order of creation)."""
    n = len(p.boxes)
    cluster = np.full(n, -1, dtype=np.int64)
    sums = np.zeros((n, 4))
    wsum = np.zeros(n)
    c_item = np.zeros(n, dtype=np.int64)
    c_label = np.zeros(n, dtype=np.int64)
    n_clusters = 0
    box_weight = weight[p.worker]
    for rank in range(p.n_ranks):
        new = np.flatnonzero(p.rank == rank)
        if not len(new):
            continue
        matched_b = np.empty(0, dtype=np.int64)
        matched_c = np.empty(0, dtype=np.int64)
        if n_clusters:
            matched_b, matched_c = _match(
                p, new, c_item[:n_clusters], sums[:n_clusters] / wsum[:n_clusters, None],
                c_label[:n_clusters], threshold, penalty,
            )  # fmt: skip
        cluster[matched_b] = matched_c
        rest = new[cluster[new] < 0]
        created = np.arange(n_clusters, n_clusters + len(rest))
        cluster[rest] = created
        c_item[created] = p.item[rest]
        c_label[created] = p.labels[rest]
        n_clusters += len(rest)
        members = np.concatenate([matched_b, rest])
        targets = cluster[members]
        np.add.at(sums, targets, p.boxes[members] * box_weight[members, None])
        np.add.at(wsum, targets, box_weight[members])
    return cluster


def _match(
    p: _Prepared,
    new: Ints,
    c_item: Ints,
    centres: Floats,
    c_label: Ints,
    threshold: float,
    penalty: float,
) -> tuple[Ints, Ints]:
    """Optimal assignment of the boxes ``new`` (one answer per item) to the item's clusters."""
    order = np.argsort(c_item, kind="stable")
    sorted_items = c_item[order]
    items = p.item[new]
    starts = np.searchsorted(sorted_items, items, side="left")
    counts = np.searchsorted(sorted_items, items, side="right") - starts
    total = int(counts.sum())
    if not total:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_b = np.repeat(new, counts)
    pair_c = order[np.repeat(starts, counts) + offsets]
    iou = iou_pairs(p.boxes[pair_b], centres[pair_c])
    ok = iou >= threshold - 1e-12
    pair_b, pair_c, iou = pair_b[ok], pair_c[ok], iou[ok]
    if not len(pair_b):
        return pair_b, pair_c
    degree_b = np.bincount(pair_b, minlength=len(p.boxes))[pair_b]
    degree_c = np.bincount(pair_c, minlength=len(centres))[pair_c]
    contested = (degree_b > 1) | (degree_c > 1)
    if not contested.any():
        return pair_b, pair_c
    bad_items = np.unique(p.item[pair_b[contested]])
    hard = np.isin(p.item[pair_b], bad_items)
    out_b, out_c = [pair_b[~hard]], [pair_c[~hard]]
    hb, hc, hi = pair_b[hard], pair_c[hard], iou[hard]
    cost = 1.0 - hi + penalty * (p.labels[hb] != c_label[hc])
    # One small cost matrix per contested item, laid out in one flat array.
    item = p.item[hb]
    row_order = np.lexsort((hb, item))
    col_order = np.lexsort((hc, item))
    row_local, row_starts, n_rows, row_ids = _dense(item, hb, row_order)
    col_local, col_starts, n_cols, col_ids = _dense(item, hc, col_order)
    sizes = n_rows * n_cols
    offsets = np.cumsum(sizes) - sizes
    group = np.searchsorted(np.unique(item), item)
    flat = np.full(int(sizes.sum()), _FORBIDDEN)
    flat[offsets[group] + row_local * n_cols[group] + col_local] = cost
    for g in range(len(sizes)):
        matrix = flat[offsets[g] : offsets[g] + sizes[g]].reshape(n_rows[g], n_cols[g])
        r, q = linear_sum_assignment(matrix)
        keep = matrix[r, q] < _FORBIDDEN
        out_b.append(row_ids[row_starts[g] + r[keep]])
        out_c.append(col_ids[col_starts[g] + q[keep]])
    return np.concatenate(out_b), np.concatenate(out_c)


def _dense(item: Ints, ids: Ints, order: Ints) -> tuple[Ints, Ints, Ints, Ints]:
    """Per pair, the rank of ``ids`` among the distinct ids of its item; per item, where
    its distinct ids start and how many; and the distinct ids, by item then id."""
    sorted_item, sorted_ids = item[order], ids[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sorted_ids[1:] != sorted_ids[:-1]) | (sorted_item[1:] != sorted_item[:-1])
    distinct = np.cumsum(new) - 1
    item_start = np.ones(len(order), dtype=bool)
    item_start[1:] = sorted_item[1:] != sorted_item[:-1]
    starts = distinct[item_start]
    counts = np.diff(np.append(starts, distinct[-1] + 1))
    local = np.empty(len(order), dtype=np.int64)
    local[order] = distinct - np.repeat(
        starts, np.diff(np.append(np.flatnonzero(item_start), len(order)))
    )
    return local, starts, counts, sorted_ids[new]


@dataclass(frozen=True)
class _Fused:
    boxes: Floats  # per cluster
    labels: Ints
    support: Floats
    keep: NDArray[np.bool_]
    c_item: Ints
    member_iou: Floats  # per box: IoU with its cluster's fused box


def _fuse(
    p: _Prepared, cluster: Ints, weight: Floats, table: BoxAnswers, min_support: float
) -> _Fused:
    n_clusters = int(cluster.max()) + 1 if len(cluster) else 0
    bw = weight[p.worker]
    wsum = np.bincount(cluster, bw, minlength=n_clusters)
    boxes = (
        np.stack(
            [np.bincount(cluster, bw * p.boxes[:, j], minlength=n_clusters) for j in range(4)],
            axis=1,
        )
        / np.where(wsum > 0, wsum, 1.0)[:, None]
    )
    n_labels = max(len(table.label_names), 1)
    votes = np.bincount(cluster * n_labels + p.labels, bw, minlength=n_clusters * n_labels).reshape(
        n_clusters, n_labels
    )
    labels = votes.argmax(axis=1).astype(np.int64)
    c_item = np.zeros(n_clusters, dtype=np.int64)
    c_item[cluster] = p.item
    # Summed in canonical order, so that reordering the answers changes no bit.
    ordered = p.answer_order
    item_weight = np.bincount(
        table.answer_item[ordered], weight[table.answer_worker[ordered]], minlength=table.n_items
    )
    support = wsum / np.where(item_weight[c_item] > 0, item_weight[c_item], 1.0)
    keep = support >= min_support - 1e-9
    member_iou = iou_pairs(p.boxes, boxes[cluster])
    return _Fused(boxes, labels, support, keep, c_item, member_iou)


def _skills(
    p: _Prepared, cluster_of: Ints, fused: _Fused, table: BoxAnswers, model: BoxFusion
) -> Floats:
    """Each worker's panoptic quality against the kept fused boxes, smoothed."""
    n_workers = table.n_workers
    hit = (
        fused.keep[cluster_of]
        & (p.labels == fused.labels[cluster_of])
        & (fused.member_iou >= model.iou_threshold - 1e-12)
    )
    tp = np.bincount(p.worker, hit, minlength=n_workers)
    iou_sum = np.bincount(p.worker, np.where(hit, fused.member_iou, 0.0), minlength=n_workers)
    drawn = np.bincount(p.worker, minlength=n_workers)
    kept_per_item = np.bincount(fused.c_item[fused.keep], minlength=table.n_items)
    expected = np.bincount(table.answer_worker, kept_per_item[table.answer_item], n_workers)
    a, s = model.prior_strength, model.prior_skill
    f1 = (2 * tp + 2 * a * s) / (drawn + expected + 2 * a)
    mean_iou = (iou_sum + a * s) / (tp + a)
    return np.asarray(np.clip(f1 * mean_iou, 1e-3, 1 - 1e-3), dtype=np.float64)


def _finish(
    p: _Prepared, cluster: Ints, fused: _Fused, table: BoxAnswers, skill: Floats
) -> FusedBoxes:
    n_items = table.n_items
    n_clusters = len(fused.support)
    mean_iou = np.bincount(cluster, fused.member_iou, minlength=n_clusters) / np.maximum(
        np.bincount(cluster, minlength=n_clusters), 1
    )
    certainty = np.where(fused.keep, fused.support * mean_iou, 1.0 - fused.support)
    per_item = np.bincount(fused.c_item, minlength=n_items)
    confidence = np.where(
        per_item > 0,
        np.bincount(fused.c_item, certainty, minlength=n_items) / np.maximum(per_item, 1),
        1.0,
    )
    kept = np.flatnonzero(fused.keep)
    boxes, labels, items = fused.boxes[kept], fused.labels[kept], fused.c_item[kept]
    order = np.lexsort((labels, boxes[:, 3], boxes[:, 2], boxes[:, 1], boxes[:, 0], items))
    return FusedBoxes(
        box_item=items[order],
        boxes=boxes[order],
        labels=labels[order],
        support=fused.support[kept][order],
        confidence=confidence,
        agreement=_agreement(p, cluster, table),
        skills=skill,
        label_names=table.label_names,
    )


def _agreement(p: _Prepared, cluster: Ints, table: BoxAnswers) -> Floats:
    """Per item: the mean over annotator pairs of matched IoU / (n_a + n_b - matched)."""
    n_answers = len(table.answer_item)
    # Every pair of answers on the same item.
    order = np.argsort(table.answer_item, kind="stable")
    items = table.answer_item[order]
    ends = np.searchsorted(items, items, side="right")
    later = ends - np.arange(n_answers) - 1
    first = np.repeat(np.arange(n_answers), later)
    offsets = np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later)
    a, b = order[first], order[first + 1 + offsets]
    a, b = np.minimum(a, b), np.maximum(a, b)
    key = a * n_answers + b
    pair_order = np.argsort(key)
    key, a, b = key[pair_order], a[pair_order], b[pair_order]
    # Matched box pairs: boxes in the same cluster (each answer has at most one there).
    by_cluster = np.argsort(cluster, kind="stable")
    cl = cluster[by_cluster]
    matched_key: list[Ints] = []
    matched_iou: list[Floats] = []
    gap = 1
    while True:
        if gap >= len(cl):
            break
        same = np.flatnonzero(cl[gap:] == cl[:-gap])
        if not len(same):
            break
        i, j = by_cluster[same], by_cluster[same + gap]
        ai, aj = p.answer[i], p.answer[j]
        matched_key.append(np.minimum(ai, aj) * n_answers + np.maximum(ai, aj))
        matched_iou.append(iou_pairs(p.boxes[i], p.boxes[j]))
        gap += 1
    n_boxes = np.bincount(p.answer, minlength=n_answers)
    matched = np.zeros(len(key))
    iou_sum = np.zeros(len(key))
    if matched_key and len(key):
        mk, mi = np.concatenate(matched_key), np.concatenate(matched_iou)
        where = np.searchsorted(key, mk)
        np.add.at(matched, where, 1.0)
        np.add.at(iou_sum, where, mi)
    denominator = n_boxes[a] + n_boxes[b] - matched
    score = np.where(denominator > 0, iou_sum / np.where(denominator > 0, denominator, 1), 1.0)
    pair_item = table.answer_item[a]
    count = np.bincount(pair_item, minlength=table.n_items)
    total = np.bincount(pair_item, score, minlength=table.n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def cluster_boxes(
    table: BoxAnswers,
    *,
    weights: Floats | Sequence[float] | None = None,
    iou_threshold: float = IOU_THRESHOLD,
    label_penalty: float = 0.1,
) -> Ints:
    """The matching step alone: the cluster of each box of ``table`` (boxes in one cluster
    are one object; each answer puts at most one box in a cluster). ``weights``: one per
    worker (default 1), the order answers seed clusters in and the weight of positions.

    >>> table = BoxAnswers.from_items([{
    ...     "a": [{"x": 0, "y": 0, "w": 10, "h": 10, "label": "cat"}],
    ...     "b": [{"x": 1, "y": 0, "w": 10, "h": 10, "label": "cat"},
    ...           {"x": 50, "y": 0, "w": 10, "h": 10, "label": "cat"}],
    ... }])
    >>> cluster = cluster_boxes(table)
    >>> bool(cluster[0] == cluster[1]), bool(cluster[0] != cluster[2])
    (True, True)
    """
    weight = np.ones(table.n_workers) if weights is None else np.asarray(weights, dtype=float)
    if weight.shape != (table.n_workers,):
        raise InvalidInput("weights: one per worker", details={"field": "weights"})
    prepared = _prepare(table, weight)
    cluster = _cluster(prepared, weight, iou_threshold, label_penalty)
    out = np.empty_like(cluster)
    out[prepared.perm] = cluster
    return out


# --- one item ------------------------------------------------------------------------------


class _Scored(Protocol):
    """A fusion result: per fused shape ``support``, per item ``confidence`` and
    ``agreement`` (:class:`FusedBoxes`, :class:`~loupe.aggregation.segments.FusedSegments`)."""

    @property
    def support(self) -> Floats: ...
    @property
    def confidence(self) -> Floats: ...
    @property
    def agreement(self) -> Floats: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemConsensus:
    """What one item's fusion scores, whatever it fused (boxes, segments): the ``support``
    of each fused shape (share of the annotators' weight), ``confidence`` and
    ``agreement``."""

    support: list[float]
    confidence: float
    agreement: float

    @staticmethod
    def scores(result: _Scored, n_items: int) -> dict[str, Any]:
        """The scores of item 0 of a one-item fusion ``result``, as keyword arguments."""
        return {
            "support": [float(s) for s in result.support],
            "confidence": float(result.confidence[0]) if n_items else 1.0,
            "agreement": float(result.agreement[0]) if n_items else float("nan"),
        }


def item_skills(
    workers: Sequence[Hashable], skills: Mapping[Any, float] | None
) -> list[float] | None:
    """The skill of each of one item's ``workers`` (0.7 for a worker ``skills`` does not
    name), or None to weigh them alike when no skills are given."""
    return None if skills is None else [skills.get(w, 0.7) for w in workers]


@dataclass(frozen=True, slots=True, kw_only=True)
class FusedItem(ItemConsensus):
    """One item's consensus: ``boxes`` (answer dicts, rounded to 0.1 px) and their scores."""

    boxes: list[dict[str, Any]]


def fuse_boxes(
    answers: Mapping[Any, Sequence[Mapping[str, Any]]],
    *,
    skills: Mapping[Any, float] | None = None,
    min_support: float = 0.5,
    iou_threshold: float = IOU_THRESHOLD,
) -> FusedItem:
    """Fuse one item's answers (``{worker: boxes}``) with the given worker skills
    (default: every worker alike; no skill is estimated from a single item)."""
    table = BoxAnswers.from_items([answers])
    model = BoxFusion(iou_threshold=iou_threshold, min_support=min_support, n_iter=0)
    result = model.fit(table, skills=item_skills(table.workers, skills)).result_
    return FusedItem(boxes=result.item(0), **ItemConsensus.scores(result, table.n_items))


# --- gold ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoxScore:
    """An answer against reference boxes: matched pairs (same label, ``IoU >= threshold``,
    optimal assignment), precision, recall, F1 and the mean IoU of the matched pairs."""

    matched: int
    precision: float
    recall: float
    f1: float
    mean_iou: float

    def passes(self, f1: float = GOLD_PASS_F1) -> bool:
        return self.f1 >= f1 - 1e-12


def box_score(
    answer: Sequence[Mapping[str, Any]],
    reference: Sequence[Mapping[str, Any]],
    *,
    iou_threshold: float = IOU_THRESHOLD,
) -> BoxScore:
    """Score ``answer`` against ``reference`` (gold); both empty is a perfect score.

    >>> gold = [{"x": 0, "y": 0, "w": 10, "h": 10, "label": "cup"}]
    >>> box_score([{"x": 1, "y": 0, "w": 10, "h": 10, "label": "cup"}], gold).f1
    1.0
    >>> box_score([{"x": 1, "y": 0, "w": 10, "h": 10, "label": "mug"}], gold).f1
    0.0
    """
    if not answer and not reference:
        return BoxScore(0, 1.0, 1.0, 1.0, 1.0)
    a = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in answer], dtype=np.float64)
    r = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in reference], dtype=np.float64)
    iou = iou_matrix(a, r)
    same = np.array([[x["label"] == y["label"] for y in reference] for x in answer], dtype=bool)
    ok = same.reshape(iou.shape) & (iou >= iou_threshold - 1e-12)
    matched, iou_total = 0, 0.0
    if ok.any():
        rows, cols = linear_sum_assignment(np.where(ok, 1.0 - iou, _FORBIDDEN))
        good = ok[rows, cols]
        matched = int(good.sum())
        iou_total = float(iou[rows, cols][good].sum())
    precision = matched / len(answer) if answer else 0.0
    recall = matched / len(reference) if reference else 0.0
    f1 = 2 * matched / (len(answer) + len(reference))
    return BoxScore(matched, precision, recall, f1, iou_total / matched if matched else 0.0)
