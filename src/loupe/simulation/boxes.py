"""SIMULATED annotators drawing bounding boxes — not people, and not for production.

A ground truth of scenes (:func:`simulate_scenes`: a Poisson number of objects per image,
log-normal sizes, uniform positions and labels) is annotated by a panel of simulated
annotators. The noise model, per annotator, all driven by one *skill* ``s`` in ``(0, 1]``
drawn uniformly from a range (:meth:`BoxCrowd.draw`):

* **coordinate jitter** — each of the four edges moves by a normal error with standard
  deviation ``jitter x`` the box's width (left/right edges) or height (top/bottom),
  ``jitter = 0.02 + 0.15 (1 - s)``; the box is then clipped to the image and kept at
  least 2 px wide and high;
* **misses** — each true object is left out with probability ``0.30 (1 - s)``;
* **false positives** — a Poisson number of spurious boxes per image, mean
  ``0.8 (1 - s)``, drawn like true objects with a random label;
* **label confusion** — a drawn box gets a uniformly chosen *other* label with
  probability ``0.4 (1 - s)``.

Every call takes an explicit :class:`numpy.random.Generator`: same seed, same answers.

>>> rng = np.random.default_rng(0)
>>> crowd = BoxCrowd.draw(3, skill=(1.0, 1.0), rng=rng)
>>> round(float(crowd.miss_rate.max()), 3), round(float(crowd.jitter.max()), 3)
(0.0, 0.02)
>>> truth = [{"x": 100.0, "y": 50.0, "w": 200.0, "h": 100.0, "label": "cup"}]
>>> drawn = crowd.annotator(0).draw_boxes(truth, labels=["cup", "mug"], width=1280,
...                                       height=720, rng=np.random.default_rng(1))
>>> [box["label"] for box in drawn]
['cup']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.boxes import BoxAnswers
from loupe.errors import InvalidInput

__all__ = ["BoxCrowd", "BoxScenes", "SimulatedBoxAnnotator", "simulate_scenes"]

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
MIN_SIZE = 2.0


@dataclass(frozen=True)
class BoxScenes:
    """SIMULATED ground truth: ``boxes`` (``x, y, w, h``) and ``labels`` (indices into
    ``label_names``) of the objects in ``n_images`` images of ``width x height``; ``box_item``
    is sorted."""

    n_images: int
    width: int
    height: int
    box_item: Ints
    boxes: Floats
    labels: Ints
    label_names: tuple[str, ...]

    def item(self, index: int) -> list[dict[str, Any]]:
        lo, hi = np.searchsorted(self.box_item, [index, index + 1])
        return _as_dicts(self.boxes[lo:hi], self.labels[lo:hi], self.label_names)


def simulate_scenes(
    n_images: int,
    *,
    labels: Sequence[str],
    rng: np.random.Generator,
    width: int = 1280,
    height: int = 720,
    mean_objects: float = 4.0,
) -> BoxScenes:
    """Images with a Poisson(``mean_objects``) number of objects each."""
    if n_images < 0 or not labels or mean_objects < 0:
        raise InvalidInput("need n_images >= 0, at least one label and mean_objects >= 0")
    counts = rng.poisson(mean_objects, size=n_images)
    box_item = np.repeat(np.arange(n_images, dtype=np.int64), counts)
    boxes = _random_boxes(len(box_item), width, height, rng)
    return BoxScenes(
        n_images=n_images,
        width=width,
        height=height,
        box_item=box_item,
        boxes=boxes,
        labels=rng.integers(0, len(labels), size=len(box_item)).astype(np.int64),
        label_names=tuple(labels),
    )


def _random_boxes(n: int, width: int, height: int, rng: np.random.Generator) -> Floats:
    w = np.clip(width * np.exp(rng.normal(np.log(0.12), 0.5, n)), 16, 0.6 * width)
    h = np.clip(w * np.exp(rng.normal(0.0, 0.4, n)), 16, 0.6 * height)
    x = rng.random(n) * (width - w)
    y = rng.random(n) * (height - h)
    return np.stack([x, y, w, h], axis=1)


@dataclass(frozen=True)
class SimulatedBoxAnnotator:
    """One SIMULATED annotator's noise (see the module docstring)."""

    skill: float
    jitter: float
    miss_rate: float
    false_positive_rate: float
    confusion: float

    def draw_boxes(
        self,
        truth: Sequence[Mapping[str, Any]],
        *,
        labels: Sequence[str],
        width: int,
        height: int,
        rng: np.random.Generator,
    ) -> list[dict[str, Any]]:
        """This annotator's answer for one image with the true objects ``truth``."""
        index = {name: i for i, name in enumerate(labels)}
        boxes = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in truth], dtype=np.float64)
        true_labels = np.array([index[b["label"]] for b in truth], dtype=np.int64)
        item, drawn, drawn_labels = _noisy(
            np.zeros(len(truth), dtype=np.int64), boxes.reshape(-1, 4), true_labels,
            self, np.ones(1, dtype=bool), len(labels), width, height, rng,
        )  # fmt: skip
        del item
        return sorted(
            _as_dicts(drawn, drawn_labels, tuple(labels)),
            key=lambda b: (b["x"], b["y"], b["w"], b["h"], b["label"]),
        )


@dataclass(frozen=True)
class BoxCrowd:
    """A SIMULATED panel; every annotator answers every image."""

    skill: Floats
    jitter: Floats
    miss_rate: Floats
    false_positive_rate: Floats
    confusion: Floats

    @classmethod
    def draw(cls, n: int, *, skill: tuple[float, float], rng: np.random.Generator) -> BoxCrowd:
        """``n`` annotators with skills uniform in ``skill = (low, high)``."""
        low, high = skill
        if n < 1 or not 0.0 < low <= high <= 1.0:
            raise InvalidInput("need n >= 1 annotators and 0 < low <= high <= 1 skills")
        return cls.from_skills(rng.uniform(low, high, size=n))

    @classmethod
    def from_skills(cls, skills: Sequence[float] | Floats) -> BoxCrowd:
        s = np.asarray(skills, dtype=np.float64)
        return cls(
            skill=s,
            jitter=0.02 + 0.15 * (1 - s),
            miss_rate=0.30 * (1 - s),
            false_positive_rate=0.8 * (1 - s),
            confusion=0.4 * (1 - s),
        )

    def __len__(self) -> int:
        return len(self.skill)

    def annotator(self, k: int) -> SimulatedBoxAnnotator:
        return SimulatedBoxAnnotator(
            skill=float(self.skill[k]),
            jitter=float(self.jitter[k]),
            miss_rate=float(self.miss_rate[k]),
            false_positive_rate=float(self.false_positive_rate[k]),
            confusion=float(self.confusion[k]),
        )

    def annotate(
        self, scenes: BoxScenes, *, rng: np.random.Generator, per_image: int | None = None
    ) -> BoxAnswers:
        """The panel's answers as a :class:`BoxAnswers` table: every annotator answers every
        image, or ``per_image`` distinct annotators drawn at random for each image."""
        n_workers, n_images = len(self), scenes.n_images
        if per_image is None or per_image >= n_workers:
            chosen = np.ones((n_images, n_workers), dtype=bool)
        elif per_image < 1:
            raise InvalidInput("per_image must be >= 1")
        else:
            ranks = rng.random((n_images, n_workers)).argsort(axis=1).argsort(axis=1)
            chosen = ranks < per_image
        # Answer ids: row-major over (image, annotator) among the chosen pairs.
        answer_id = np.cumsum(chosen.ravel()).reshape(chosen.shape) - 1
        answer_item, answer_worker = np.nonzero(chosen)
        box_answer: list[Ints] = []
        boxes: list[Floats] = []
        labels: list[Ints] = []
        for k in range(n_workers):
            mine = chosen[:, k]
            on = mine[scenes.box_item]
            item, drawn, drawn_labels = _noisy(
                scenes.box_item[on], scenes.boxes[on], scenes.labels[on], self.annotator(k),
                mine, len(scenes.label_names), scenes.width, scenes.height, rng,
            )  # fmt: skip
            box_answer.append(answer_id[item, k])
            boxes.append(drawn)
            labels.append(drawn_labels)
        return BoxAnswers(
            n_items=n_images,
            n_workers=n_workers,
            answer_item=answer_item.astype(np.int64),
            answer_worker=answer_worker.astype(np.int64),
            box_answer=np.concatenate(box_answer).astype(np.int64),
            boxes=np.concatenate(boxes),
            labels=np.concatenate(labels),
            label_names=scenes.label_names,
            workers=tuple(range(n_workers)),
        )


def _noisy(
    item: Ints,
    boxes: Floats,
    labels: Ints,
    annotator: SimulatedBoxAnnotator,
    images: NDArray[np.bool_],
    n_labels: int,
    width: int,
    height: int,
    rng: np.random.Generator,
) -> tuple[Ints, Floats, Ints]:
    kept = rng.random(len(item)) >= annotator.miss_rate
    item, boxes, labels = item[kept], boxes[kept], labels[kept].copy()
    n = len(item)
    sx = annotator.jitter * boxes[:, 2]
    sy = annotator.jitter * boxes[:, 3]
    x1 = boxes[:, 0] + rng.normal(0.0, 1.0, n) * sx
    x2 = boxes[:, 0] + boxes[:, 2] + rng.normal(0.0, 1.0, n) * sx
    y1 = boxes[:, 1] + rng.normal(0.0, 1.0, n) * sy
    y2 = boxes[:, 1] + boxes[:, 3] + rng.normal(0.0, 1.0, n) * sy
    if n_labels > 1:
        confused = rng.random(n) < annotator.confusion
        shift = rng.integers(1, n_labels, size=n)
        labels = np.where(confused, (labels + shift) % n_labels, labels)
    spurious = rng.poisson(annotator.false_positive_rate, size=len(images)) * images
    fp_item = np.repeat(np.arange(len(images), dtype=np.int64), spurious)
    fp = _random_boxes(len(fp_item), width, height, rng)
    fp_labels = rng.integers(0, n_labels, size=len(fp_item)).astype(np.int64)
    x1 = np.clip(np.minimum(x1, x2), 0, width - MIN_SIZE)
    y1 = np.clip(np.minimum(y1, y2), 0, height - MIN_SIZE)
    x2 = np.clip(np.maximum(x2, x1 + MIN_SIZE), x1 + MIN_SIZE, width)
    y2 = np.clip(np.maximum(y2, y1 + MIN_SIZE), y1 + MIN_SIZE, height)
    drawn = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    all_item = np.concatenate([item, fp_item])
    order = np.argsort(all_item, kind="stable")
    return (
        all_item[order],
        np.concatenate([drawn, fp])[order],
        np.concatenate([labels, fp_labels])[order],
    )


def _as_dicts(boxes: Floats, labels: Ints, names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "x": round(float(x), 1),
            "y": round(float(y), 1),
            "w": round(float(w), 1),
            "h": round(float(h), 1),
            "label": names[int(label)],
        }
        for (x, y, w, h), label in zip(boxes, labels, strict=True)
    ]
