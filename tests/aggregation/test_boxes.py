from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.aggregation.boxes import (
    BoxAnswers,
    BoxFusion,
    box_score,
    fuse_boxes,
    iou_matrix,
    iou_pairs,
)
from loupe.errors import InvalidInput


def box(x: float, y: float, w: float, h: float, label: str = "cup") -> dict[str, Any]:
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def test_iou_known_values() -> None:
    a = np.array([[0.0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 4, 4]])
    b = np.array([[0.0, 0, 10, 10], [5, 0, 10, 10], [10, 0, 5, 5], [1, 1, 2, 2]])
    assert iou_pairs(a, b).tolist() == pytest.approx([1.0, 50 / 150, 0.0, 4 / 16])
    matrix = iou_matrix(a, b)
    assert matrix.shape == (4, 4)
    assert np.diag(matrix) == pytest.approx(iou_pairs(a, b))


def test_known_answer_fusion() -> None:
    fused = fuse_boxes(
        {
            "ann": [box(10, 10, 100, 50), box(300, 300, 40, 40, "mug")],
            "bob": [box(12, 10, 100, 50), box(302, 300, 40, 40, "cup")],
            "cid": [box(14, 10, 100, 50, "mug"), box(600, 10, 20, 20)],
        }
    )
    # The cup is drawn by all three (label 2:1), the mug/cup at 300 by two (a 1:1 tie
    # goes to the first label in sorted order), the box at 600 by one: dropped.
    assert fused.boxes == [box(12, 10, 100, 50), box(301, 300, 40, 40, "cup")]
    assert fused.support == pytest.approx([1.0, 2 / 3])
    assert 0.5 < fused.confidence < 1.0
    assert 0.0 < fused.agreement < 1.0


def test_optimal_not_greedy_assignment() -> None:
    # Greedy by best IoU pairs (30, 0) with the right seed (IoU .67) and leaves (75, 0)
    # (IoU .6 with the right seed only) unmatched; the optimal assignment matches both:
    # (30, 0) with the left seed (IoU .54) and (75, 0) with the right one.
    seed = [box(0, 0, 100, 100), box(50, 0, 100, 100)]
    other = [box(30, 0, 100, 100), box(75, 0, 100, 100)]
    table = BoxAnswers.from_items([{"a": seed, "b": other}])
    result = BoxFusion(n_iter=0).fit(table, skills=[0.9, 0.5]).result_
    assert len(result.boxes) == 2
    assert result.support.tolist() == [1.0, 1.0]


def test_weights_move_the_fused_box_and_decide_labels() -> None:
    answers = {"good": [box(0, 0, 100, 100, "cup")], "poor": [box(10, 0, 100, 100, "mug")]}
    fused = fuse_boxes(answers, skills={"good": 0.9, "poor": 0.3})
    assert fused.boxes == [box(2.5, 0, 100, 100, "cup")]
    fused = fuse_boxes(answers, skills={"good": 0.3, "poor": 0.9})
    assert fused.boxes == [box(7.5, 0, 100, 100, "mug")]


def test_min_support_is_a_share_of_weight() -> None:
    answers = {"a": [box(0, 0, 50, 50)], "b": [], "c": []}
    assert fuse_boxes(answers).boxes == []
    assert fuse_boxes(answers, min_support=0.3).boxes == [box(0, 0, 50, 50)]
    heavy = fuse_boxes(answers, skills={"a": 0.9, "b": 0.3, "c": 0.3})
    assert heavy.boxes == [box(0, 0, 50, 50)]
    # Dropped clusters count towards confidence as 1 - support.
    assert fuse_boxes(answers).confidence == pytest.approx(2 / 3)


def test_empty_answers() -> None:
    fused = fuse_boxes({"a": [], "b": []})
    assert fused.boxes == [] and fused.confidence == 1.0 and fused.agreement == 1.0
    alone = fuse_boxes({"a": [box(0, 0, 5, 5)]})
    assert alone.boxes == [box(0, 0, 5, 5)] and math.isnan(alone.agreement)
    table = BoxAnswers.from_items([])
    assert BoxFusion().fit(table).result_.boxes.shape == (0, 4)


def test_skills_are_estimated_from_agreement() -> None:
    rng = random.Random(3)
    items = []
    for _ in range(60):
        truth = [box(rng.uniform(0, 500), rng.uniform(0, 300), 80, 60) for _ in range(3)]
        noise = [box(rng.uniform(0, 500), rng.uniform(0, 300), 30, 30, "mug") for _ in range(2)]
        items.append({"good1": truth, "good2": truth, "noisy": truth[:1] + noise})
    model = BoxFusion().fit(BoxAnswers.from_items(items))
    skills = dict(zip(BoxAnswers.from_items(items).workers, model.skills_, strict=True))
    assert skills["good1"] > 0.9 and skills["noisy"] < 0.5
    assert all(len(model.result_.item(i)) == 3 for i in range(60))


def test_gold_score() -> None:
    gold = [box(0, 0, 100, 100), box(200, 0, 50, 50, "mug")]
    perfect = box_score(gold, gold)
    assert (perfect.matched, perfect.f1, perfect.mean_iou) == (2, 1.0, 1.0)
    half = box_score([box(10, 0, 100, 100), box(200, 0, 50, 50, "cup")], gold)
    assert (half.matched, half.precision, half.recall, half.f1) == (1, 0.5, 0.5, 0.5)
    assert half.mean_iou == pytest.approx(90 / 110)
    assert not half.passes() and perfect.passes()
    assert box_score([], []).f1 == 1.0
    assert box_score([], gold).f1 == 0.0 and box_score(gold, []).f1 == 0.0
    far = box_score([box(60, 0, 100, 100)], gold[:1])
    assert far.f1 == 0.0  # IoU 40/160 < 0.5


def test_table_refuses_bad_shapes() -> None:
    with pytest.raises(InvalidInput):
        BoxAnswers.from_items([{"a": [box(0, 0, 0, 5)]}])
    with pytest.raises(InvalidInput):
        BoxAnswers.from_items([{"a": [box(0, 0, 5, 5, "dog")]}], labels=["cup"])
    with pytest.raises(InvalidInput):
        BoxFusion(min_support=0.0)


# --- properties ----------------------------------------------------------------------------

coordinate = st.integers(min_value=0, max_value=60).map(float)
size = st.integers(min_value=2, max_value=40).map(float)
one_box = st.builds(box, coordinate, coordinate, size, size, st.sampled_from(["cup", "mug"]))
answer = st.lists(one_box, max_size=5, unique_by=lambda b: tuple(b.values()))
answers = st.lists(answer, min_size=1, max_size=4)


def _named(items: list[list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {f"w{i}": a for i, a in enumerate(items)}


def _same(a: Any, b: Any) -> None:
    assert a.boxes == b.boxes
    assert a.support == b.support
    assert a.confidence == b.confidence
    assert a.agreement == pytest.approx(b.agreement, nan_ok=True)


@settings(max_examples=150, deadline=None)
@given(answers, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_annotators_and_boxes(
    given_answers: list[list[dict[str, Any]]], rnd: random.Random
) -> None:
    named = _named(given_answers)
    shuffled = list(named.items())
    rnd.shuffle(shuffled)
    reordered = {worker: rnd.sample(boxes, len(boxes)) for worker, boxes in shuffled}
    _same(fuse_boxes(named), fuse_boxes(reordered))
    skills = {w: rnd.uniform(0.2, 0.95) for w in named}
    _same(fuse_boxes(named, skills=skills), fuse_boxes(reordered, skills=skills))


@settings(max_examples=60, deadline=None)
@given(st.lists(answers, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_batch_with_estimated_skills_is_order_invariant(
    items: list[list[list[dict[str, Any]]]], rnd: random.Random
) -> None:
    first = [_named(i) for i in items]
    second = []
    for item in first:
        pairs = list(item.items())
        rnd.shuffle(pairs)
        second.append({w: rnd.sample(b, len(b)) for w, b in pairs})
    a = BoxFusion().fit(BoxAnswers.from_items(first, labels=["cup", "mug"])).result_
    b = BoxFusion().fit(BoxAnswers.from_items(second, labels=["cup", "mug"])).result_
    assert [a.item(i) for i in range(len(items))] == [b.item(i) for i in range(len(items))]
    assert a.confidence.tolist() == pytest.approx(b.confidence.tolist())


@settings(max_examples=150, deadline=None)
@given(answer, st.integers(min_value=1, max_value=4))
def test_identical_answers_give_the_same_boxes_with_confidence_one(
    given_answer: list[dict[str, Any]], copies: int
) -> None:
    fused = fuse_boxes({f"w{i}": list(given_answer) for i in range(copies)})
    expected = sorted(given_answer, key=lambda b: (b["x"], b["y"], b["w"], b["h"], b["label"]))
    assert fused.boxes == expected
    assert fused.confidence == pytest.approx(1.0)
    if copies > 1:
        assert fused.agreement == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(answers)
def test_outputs_are_bounded(given_answers: list[list[dict[str, Any]]]) -> None:
    fused = fuse_boxes(_named(given_answers))
    assert 0.0 <= fused.confidence <= 1.0 + 1e-9
    assert all(0.5 - 1e-9 <= s <= 1.0 + 1e-9 for s in fused.support)
    # Each kept box holds at least half the annotators' boxes of its cluster.
    total = sum(len(a) for a in given_answers)
    assert len(fused.boxes) <= total / (0.5 * len(given_answers)) + 1e-9
    assert math.isnan(fused.agreement) or 0.0 <= fused.agreement <= 1.0 + 1e-9
