"""The SIMULATED box crowd: deterministic per seed, and its noise model as documented."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.aggregation.boxes import BoxFusion, box_score
from loupe.errors import InvalidInput
from loupe.label_schema import Boxes, LabelOption, validate_answer
from loupe.simulation.boxes import BoxCrowd, simulate_scenes

LABELS = ["cup", "sign", "card"]


def _world(seed: int, n: int = 2000, skill: tuple[float, float] = (0.5, 0.9)) -> tuple:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(n, labels=LABELS, rng=rng)
    crowd = BoxCrowd.draw(3, skill=skill, rng=rng)
    return scenes, crowd, crowd.annotate(scenes, rng=rng)


def test_same_seed_same_answers() -> None:
    _, _, first = _world(5)
    _, _, again = _world(5)
    _, _, other = _world(6)
    assert np.array_equal(first.boxes, again.boxes)
    assert np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.boxes[:10], other.boxes[:10])


def test_scenes_fit_their_images() -> None:
    scenes = simulate_scenes(500, labels=LABELS, rng=np.random.default_rng(0))
    x, y, w, h = scenes.boxes.T
    assert (x >= 0).all() and (y >= 0).all()
    assert (x + w <= scenes.width + 1e-9).all() and (y + h <= scenes.height + 1e-9).all()
    assert abs(len(scenes.boxes) / 500 - 4.0) < 0.3  # Poisson(4) objects per image
    assert np.all(np.diff(scenes.box_item) >= 0)


def test_perfect_annotators_draw_nearly_the_truth() -> None:
    scenes, _, table = _world(1, n=300, skill=(1.0, 1.0))
    assert len(table.boxes) == 3 * len(scenes.boxes)  # no misses, no false positives
    fused = BoxFusion().fit(table).result_
    assert len(fused.boxes) == len(scenes.boxes)
    f1 = [box_score(fused.item(i), scenes.item(i)).f1 for i in range(300)]
    assert min(f1) > 0.7 and np.mean(f1) > 0.99  # 2% jitter: IoU well above 0.5 nearly always
    assert fused.confidence.mean() > 0.9


def test_noise_rates_follow_the_documented_model() -> None:
    crowd = BoxCrowd.from_skills([0.5])
    assert crowd.jitter[0] == pytest.approx(0.02 + 0.15 * 0.5)
    assert crowd.miss_rate[0] == pytest.approx(0.15)
    assert crowd.false_positive_rate[0] == pytest.approx(0.4)
    assert crowd.confusion[0] == pytest.approx(0.2)
    rng = np.random.default_rng(2)
    scenes = simulate_scenes(4000, labels=LABELS, rng=rng)
    table = crowd.annotate(scenes, rng=rng)
    n_true = len(scenes.boxes)
    # Drawn = kept true objects + false positives.
    expected = n_true * (1 - 0.15) + 4000 * 0.4
    assert abs(len(table.boxes) - expected) < 0.05 * expected


def test_answers_are_valid_box_answers() -> None:
    task = Boxes(labels=[LabelOption(key=k) for k in LABELS])
    rng = np.random.default_rng(3)
    scenes = simulate_scenes(50, labels=LABELS, rng=rng)
    annotator = BoxCrowd.draw(1, skill=(0.3, 0.3), rng=rng).annotator(0)
    for image in range(50):
        drawn = annotator.draw_boxes(
            scenes.item(image), labels=LABELS, width=1280, height=720, rng=rng
        )
        try:
            canonical = validate_answer(task, drawn, size=(1280, 720))
        except InvalidInput as error:  # two spurious boxes could coincide; never seen
            pytest.fail(error.message)
        assert box_score(canonical, drawn).f1 == 1.0


def test_per_image_panels_are_distinct_annotators() -> None:
    rng = np.random.default_rng(4)
    scenes = simulate_scenes(200, labels=LABELS, rng=rng)
    crowd = BoxCrowd.draw(10, skill=(0.5, 0.9), rng=rng)
    table = crowd.annotate(scenes, rng=rng, per_image=3)
    assert len(table.answer_item) == 600
    assert np.bincount(table.answer_item).tolist() == [3] * 200
    per_image = table.answer_item * 10 + table.answer_worker
    assert len(np.unique(per_image)) == 600
    # Each annotator saw about 3/10 of the images.
    assert np.bincount(table.answer_worker).min() > 30


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InvalidInput):
        BoxCrowd.draw(0, skill=(0.5, 0.9), rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput):
        BoxCrowd.draw(2, skill=(0.9, 0.5), rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput):
        simulate_scenes(5, labels=[], rng=np.random.default_rng(0))
