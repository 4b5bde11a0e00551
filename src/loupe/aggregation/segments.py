"""Time-segment consensus: match segments across annotators, fuse them with skill weights.

An answer is a list of ``{"start", "end", "label"}`` segments in seconds of an item's audio.

**One dimension is a special case of two.** A segment ``[s, e)`` is laid out as the box
``x = s, y = 0, w = e - s, h = 1``. Two such boxes share their height, so their IoU is
exactly the 1-D IoU of the segments, ``overlap / (len A + len B - overlap)``; the
weighted mean of ``x`` and ``w`` is the weighted mean of the starts and (``x + w``) of
the ends. Everything
:mod:`loupe.aggregation.boxes` does therefore carries over unchanged, and is not
written twice:

* **matching**: each item's answers, heaviest worker first, are matched to the clusters
  so far by an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`) on
  ``1 - IoU`` (plus a small penalty when labels differ), only pairs with
  ``IoU >= iou_threshold`` allowed; each annotator puts at most one segment in a cluster;
* **fusion**: a cluster's segment is the skill-weighted mean of its members' starts and
  ends, its label the weighted vote; it is kept when its *support* (the weight of the
  annotators who marked it over the weight of all the item's annotators, an annotator who
  marked nothing counting) reaches ``min_support``;
* **skills** (when not given): EM-style rounds of each worker's F1 at ``iou_threshold``
  times mean IoU against the fused segments, smoothed towards a prior;
* **confidence**: the mean over clusters of ``support x mean IoU`` (kept) or
  ``1 - support`` (dropped); 1.0 when nobody marked anything;
* **agreement**: the mean over annotator pairs of ``sum of IoU of matched segments /
  (n_a + n_b - matched)`` (1.0 for two empty answers, NaN with one annotator).

Gold: :func:`segment_score` (F1 at IoU 0.5, labels matching, optimal assignment); an
answer passes at F1 >= :data:`GOLD_PASS_F1`.

>>> fused = fuse_segments({
...     "ann": [{"start": 1.0, "end": 2.0, "label": "wake"}],
...     "bob": [{"start": 1.1, "end": 2.1, "label": "wake"}],
...     "cid": [],
... })
>>> fused.segments
[{'start': 1.05, 'end': 2.05, 'label': 'wake'}]
>>> round(fused.support[0], 3)
0.667
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.boxes import (
    GOLD_PASS_F1,
    IOU_THRESHOLD,
    BoxAnswers,
    BoxFusion,
    BoxScore,
    ItemConsensus,
    Weighting,
    box_score,
    item_skills,
)
from loupe.errors import InvalidInput

__all__ = [
    "GOLD_PASS_F1",
    "IOU_THRESHOLD",
    "FusedSegmentItem",
    "FusedSegments",
    "SegmentAnswers",
    "SegmentFusion",
    "SegmentScore",
    "fuse_segments",
    "segment_iou",
    "segment_score",
]

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
SegmentScore = BoxScore
"""An answer against reference segments: matched, precision, recall, F1, mean IoU."""


def segment_iou(a: Floats, b: Floats) -> Floats:
    """1-D IoU of ``a[i]`` and ``b[i]`` for two ``(..., 2)`` arrays of ``start, end``.

    >>> segment_iou(np.array([[0.0, 2.0]]), np.array([[1.0, 3.0]])).round(3).tolist()
    [0.333]
    """
    inter = np.clip(np.minimum(a[..., 1], b[..., 1]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    union = (a[..., 1] - a[..., 0]) + (b[..., 1] - b[..., 0]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.asarray(out, dtype=np.float64)


def _as_boxes(segments: Floats) -> Floats:
    """``start, end`` rows as ``x, y, w, h`` boxes of height 1 (IoU preserved exactly)."""
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    out = np.zeros((len(segments), 4))
    out[:, 0] = segments[:, 0]
    out[:, 2] = segments[:, 1] - segments[:, 0]
    out[:, 3] = 1.0
    return out


def _box_dicts(answer: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"x": s["start"], "y": 0.0, "w": s["end"] - s["start"], "h": 1.0, "label": s["label"]}
        for s in answer
    ]


@dataclass(frozen=True)
class SegmentAnswers:
    """Segment answers as arrays (the long table :class:`BoxAnswers` reads, one row per
    (item, worker) answer and one per segment), built by :meth:`from_items` or
    :meth:`from_arrays`."""

    table: BoxAnswers

    @property
    def n_items(self) -> int:
        return self.table.n_items

    @property
    def workers(self) -> tuple[Hashable, ...]:
        return self.table.workers

    @classmethod
    def from_arrays(
        cls,
        *,
        n_items: int,
        n_workers: int,
        answer_item: Ints,
        answer_worker: Ints,
        segment_answer: Ints,
        segments: Floats,
        labels: Ints,
        label_names: Sequence[str],
    ) -> SegmentAnswers:
        """``segments``: ``(n, 2)`` ``start, end`` with ``start < end``; ``labels``: indices
        into ``label_names``; ``segment_answer``: the answer each segment belongs to."""
        segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
        if len(segments) and not (segments[:, 1] > segments[:, 0]).all():
            raise InvalidInput("every segment needs start < end")
        return cls(
            BoxAnswers(
                n_items=n_items,
                n_workers=n_workers,
                answer_item=np.asarray(answer_item, dtype=np.int64),
                answer_worker=np.asarray(answer_worker, dtype=np.int64),
                box_answer=np.asarray(segment_answer, dtype=np.int64),
                boxes=_as_boxes(segments),
                labels=np.asarray(labels, dtype=np.int64),
                label_names=tuple(label_names),
            )
        )

    @classmethod
    def from_items(
        cls,
        items: Sequence[Mapping[Any, Sequence[Mapping[str, Any]]]],
        *,
        labels: Sequence[str] | None = None,
    ) -> SegmentAnswers:
        """One ``{worker: segments}`` mapping per item (segments as in a canonical answer).

        ``labels``: the label names (default: every label seen, sorted)."""
        for answers in items:
            for answer in answers.values():
                if any(not s["start"] < s["end"] for s in answer):
                    raise InvalidInput("every segment needs start < end")
        as_boxes = [{w: _box_dicts(a) for w, a in answers.items()} for answers in items]
        return cls(BoxAnswers.from_items(as_boxes, labels=labels))


@dataclass(frozen=True)
class FusedSegments:
    """The fused segments of every item: ``segment_item``, ``segments`` (``(n, 2)``
    ``start, end``), ``labels`` and ``support`` per fused segment (sorted by item, then
    ``start, end, label``); per item ``confidence`` and ``agreement``; per worker
    ``skills``."""

    segment_item: Ints
    segments: Floats
    labels: Ints
    support: Floats
    confidence: Floats
    agreement: Floats
    skills: Floats
    label_names: tuple[str, ...]

    def item(self, index: int, *, decimals: int = 2) -> list[dict[str, Any]]:
        """Item ``index``'s fused segments as answer dicts, seconds rounded."""
        lo, hi = np.searchsorted(self.segment_item, [index, index + 1])
        return [
            {
                "start": round(float(start), decimals),
                "end": round(float(end), decimals),
                "label": self.label_names[int(label)],
            }
            for (start, end), label in zip(self.segments[lo:hi], self.labels[lo:hi], strict=True)
        ]


@dataclass
class SegmentFusion:
    """Match segments across annotators optimally and fuse them with worker-skill weights.

    The hyper-parameters and the maths are :class:`~loupe.aggregation.boxes.BoxFusion`'s
    (see the module docstring). ``fit(table, skills=None)``; with ``skills`` (one per
    worker, in ``(0, 1)``) no skill is estimated.

    >>> table = SegmentAnswers.from_items([{
    ...     "a": [{"start": 0.0, "end": 1.0, "label": "noise"}],
    ...     "b": [{"start": 0.2, "end": 1.0, "label": "noise"}],
    ... }])
    >>> SegmentFusion().fit(table).result_.item(0)
    [{'start': 0.1, 'end': 1.0, 'label': 'noise'}]
    """

    iou_threshold: float = IOU_THRESHOLD
    min_support: float = 0.5
    n_iter: int = 2
    label_penalty: float = 0.1
    weighting: Weighting = "linear"
    prior_skill: float = 0.7
    prior_strength: float = 2.0
    result_: FusedSegments = field(init=False, repr=False)
    skills_: Floats = field(init=False, repr=False)

    def fit(
        self, table: SegmentAnswers, skills: Floats | Sequence[float] | None = None
    ) -> SegmentFusion:
        model = BoxFusion(
            iou_threshold=self.iou_threshold,
            min_support=self.min_support,
            n_iter=self.n_iter,
            label_penalty=self.label_penalty,
            weighting=self.weighting,
            prior_skill=self.prior_skill,
            prior_strength=self.prior_strength,
        ).fit(table.table, skills)
        boxes = model.result_
        starts, ends = boxes.boxes[:, 0], boxes.boxes[:, 0] + boxes.boxes[:, 2]
        # Boxes come sorted by (item, x, y, w, label): with y fixed that is (start, end).
        self.skills_ = model.skills_
        self.result_ = FusedSegments(
            segment_item=boxes.box_item,
            segments=np.stack([starts, ends], axis=1),
            labels=boxes.labels,
            support=boxes.support,
            confidence=boxes.confidence,
            agreement=boxes.agreement,
            skills=boxes.skills,
            label_names=boxes.label_names,
        )
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class FusedSegmentItem(ItemConsensus):
    """One item's consensus: ``segments`` (answer dicts, rounded to 0.01 s) and their
    scores."""

    segments: list[dict[str, Any]]


def fuse_segments(
    answers: Mapping[Any, Sequence[Mapping[str, Any]]],
    *,
    skills: Mapping[Any, float] | None = None,
    min_support: float = 0.5,
    iou_threshold: float = IOU_THRESHOLD,
) -> FusedSegmentItem:
    """Fuse one item's answers (``{worker: segments}``) with the given worker skills
    (default: every worker alike; no skill is estimated from a single item)."""
    table = SegmentAnswers.from_items([answers])
    model = SegmentFusion(iou_threshold=iou_threshold, min_support=min_support, n_iter=0)
    result = model.fit(table, skills=item_skills(table.workers, skills)).result_
    return FusedSegmentItem(segments=result.item(0), **ItemConsensus.scores(result, table.n_items))


def segment_score(
    answer: Sequence[Mapping[str, Any]],
    reference: Sequence[Mapping[str, Any]],
    *,
    iou_threshold: float = IOU_THRESHOLD,
) -> SegmentScore:
    """Score ``answer`` against ``reference`` (gold): matched pairs (same label,
    ``IoU >= iou_threshold``, optimal assignment), precision, recall, F1, mean IoU; both
    empty is a perfect score.

    >>> gold = [{"start": 0.0, "end": 1.0, "label": "wake"}]
    >>> segment_score([{"start": 0.1, "end": 1.0, "label": "wake"}], gold).f1
    1.0
    >>> segment_score([{"start": 0.6, "end": 1.0, "label": "wake"}], gold).f1
    0.0
    """
    return box_score(_box_dicts(answer), _box_dicts(reference), iou_threshold=iou_threshold)
