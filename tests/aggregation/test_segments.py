from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.aggregation.segments import (
    SegmentAnswers,
    SegmentFusion,
    fuse_segments,
    segment_iou,
    segment_score,
)
from loupe.errors import InvalidInput


def seg(start: float, end: float, label: str = "speech") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def brute_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """1-D IoU by sampling a fine grid (an independent check of the closed form)."""
    grid = np.linspace(-1, 11, 120_001)
    in_a = (grid >= a[0]) & (grid < a[1])
    in_b = (grid >= b[0]) & (grid < b[1])
    union = (in_a | in_b).sum()
    return float((in_a & in_b).sum() / union) if union else 0.0


def test_iou_known_values() -> None:
    a = np.array([[0.0, 2.0], [0.0, 2.0], [0.0, 2.0], [0.0, 4.0]])
    b = np.array([[0.0, 2.0], [1.0, 3.0], [2.0, 3.0], [1.0, 2.0]])
    assert segment_iou(a, b).tolist() == pytest.approx([1.0, 1 / 3, 0.0, 0.25])


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(st.floats(0, 9), st.floats(0.05, 1)).map(lambda t: (t[0], t[0] + t[1])),
    st.tuples(st.floats(0, 9), st.floats(0.05, 1)).map(lambda t: (t[0], t[0] + t[1])),
)
def test_iou_matches_a_brute_force_count(a: tuple[float, float], b: tuple[float, float]) -> None:
    got = float(segment_iou(np.array([a]), np.array([b]))[0])
    assert got == pytest.approx(brute_iou(a, b), abs=6e-3)  # two grid cells of 0.05 s
    assert got == pytest.approx(float(segment_iou(np.array([b]), np.array([a]))[0]))


def test_known_answer_fusion() -> None:
    fused = fuse_segments(
        {
            "ann": [seg(1.0, 2.0, "wake"), seg(5.0, 9.0)],
            "bob": [seg(1.2, 2.2, "wake"), seg(5.2, 9.0)],
            "cid": [seg(5.0, 8.8), seg(20.0, 21.0, "noise")],
        }
    )
    # The wake word: two of three (support 2/3); the speech: all three, mean bounds;
    # the noise: one of three, dropped.
    assert fused.segments == [seg(1.1, 2.1, "wake"), seg(5.07, 8.93)]
    assert fused.support == pytest.approx([2 / 3, 1.0])
    assert 0 < fused.confidence < 1
    assert 0 < fused.agreement < 1


def test_skills_weight_the_bounds_and_the_label() -> None:
    answers = {"good": [seg(0.0, 1.0, "wake")], "poor": [seg(0.4, 1.0, "noise")]}
    fused = fuse_segments(answers, skills={"good": 0.9, "poor": 0.3})
    (only,) = fused.segments
    assert only["label"] == "wake"
    assert only["start"] == pytest.approx(0.4 * 0.3 / 1.2, abs=0.005)


def test_optimal_assignment_not_greedy() -> None:
    # B's first segment fits A's first best (IoU 0.90) but also A's second (0.71), and
    # B's second fits only A's first (0.70): greedy would leave it unmatched.
    fused = fuse_segments(
        {"a": [seg(0.0, 10.0), seg(2.0, 12.0)], "b": [seg(0.5, 10.5), seg(0.0, 7.0)]}
    )
    assert fused.segments == [seg(0.0, 8.5), seg(1.25, 11.25)]
    assert fused.support == pytest.approx([1.0, 1.0])


def test_empty_answers_and_one_annotator() -> None:
    fused = fuse_segments({"a": [], "b": []})
    assert fused.segments == [] and fused.confidence == 1.0 and fused.agreement == 1.0
    alone = fuse_segments({"a": [seg(0, 1)]})
    assert alone.segments == [seg(0.0, 1.0)] and math.isnan(alone.agreement)


def test_gold_score_is_f1_at_iou_one_half() -> None:
    gold = [seg(0.0, 1.0, "wake"), seg(2.0, 4.0)]
    perfect = segment_score([seg(0.05, 1.0, "wake"), seg(2.0, 3.9)], gold)
    assert perfect.f1 == 1.0 and perfect.passes()
    half = segment_score([seg(0.0, 1.0, "wake"), seg(2.0, 2.5)], gold)  # IoU 0.25 misses
    assert half.f1 == pytest.approx(0.5) and not half.passes()
    assert segment_score([seg(0.0, 1.0, "noise")], [seg(0.0, 1.0, "wake")]).f1 == 0.0
    assert segment_score([], []).f1 == 1.0


def test_table_refuses_bad_segments() -> None:
    with pytest.raises(InvalidInput, match="start < end"):
        SegmentAnswers.from_items([{"a": [seg(2.0, 1.0)]}])
    with pytest.raises(InvalidInput, match="start < end"):
        SegmentAnswers.from_arrays(
            n_items=1, n_workers=1, answer_item=np.array([0]), answer_worker=np.array([0]),
            segment_answer=np.array([0]), segments=np.array([[1.0, 1.0]]),
            labels=np.array([0]), label_names=["speech"],
        )  # fmt: skip


def test_batch_estimates_skills_and_matches_the_single_item_fusion() -> None:
    rng = np.random.default_rng(3)
    truth = [[seg(float(s), float(s) + 1.0)] for s in rng.uniform(0, 5, 30)]
    items = []
    for segments in truth:
        start = segments[0]["start"]
        items.append(
            {
                "good1": [seg(start + rng.normal(0, 0.02), start + 1.0)],
                "good2": [seg(start, start + 1.0 + rng.normal(0, 0.02))],
                "noisy": [seg(start + 0.3, start + 1.6, "noise")],
            }
        )
    model = SegmentFusion().fit(SegmentAnswers.from_items(items))
    skills = dict(zip(SegmentAnswers.from_items(items).workers, model.skills_, strict=True))
    assert skills["good1"] > skills["noisy"] and skills["good2"] > skills["noisy"]
    for index, item in enumerate(items):
        single = fuse_segments(item, skills=skills)
        assert model.result_.item(index) == single.segments
        assert single.segments[0]["label"] == "speech"
        assert segment_score(single.segments, truth[index]).f1 == 1.0


segment = st.builds(
    lambda start, length, label: seg(round(start, 2), round(start + length, 2), label),
    st.floats(0, 30),
    st.floats(0.05, 5),
    st.sampled_from(["speech", "noise", "wake"]),
)
answer = st.lists(segment, max_size=5)
answers = st.lists(answer, min_size=1, max_size=4)


@settings(max_examples=100, deadline=None)
@given(answers, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_annotators_and_segments(
    given_answers: list[list[dict[str, Any]]], shuffle: random.Random
) -> None:
    named = {f"w{i}": a for i, a in enumerate(given_answers)}
    base = fuse_segments(named)
    keys = list(named)
    shuffle.shuffle(keys)
    shuffled = {k: shuffle.sample(named[k], len(named[k])) for k in keys}
    again = fuse_segments(shuffled)
    assert again.segments == base.segments
    assert again.confidence == pytest.approx(base.confidence)


@settings(max_examples=100, deadline=None)
@given(answer, st.integers(min_value=1, max_value=4))
def test_identical_answers_give_the_same_segments_with_confidence_one(
    given_answer: list[dict[str, Any]], n: int
) -> None:
    unique = {(s["start"], s["end"], s["label"]): s for s in given_answer}
    clean = sorted(unique.values(), key=lambda s: (s["start"], s["end"], s["label"]))
    fused = fuse_segments({f"w{i}": clean for i in range(n)})
    assert fused.segments == clean
    assert fused.confidence == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(answers)
def test_outputs_are_bounded_and_sorted(given_answers: list[list[dict[str, Any]]]) -> None:
    fused = fuse_segments({f"w{i}": a for i, a in enumerate(given_answers)})
    assert 0.0 <= fused.confidence <= 1.0
    assert all(0.5 - 1e-9 <= s <= 1.0 + 1e-9 for s in fused.support)
    assert all(s["start"] < s["end"] for s in fused.segments)
    keys = [(s["start"], s["end"], s["label"]) for s in fused.segments]
    assert keys == sorted(keys)
    lo = min((s["start"] for a in given_answers for s in a), default=0.0)
    hi = max((s["end"] for a in given_answers for s in a), default=0.0)
    assert all(lo - 1e-9 <= s["start"] and s["end"] <= hi + 1e-9 for s in fused.segments)
