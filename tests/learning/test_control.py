"""The equal-budget random control: budgets, determinism, uniform nested draws, labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning import evaluate, get_trainer
from loupe.learning.control import ControlStep, random_control

POOL = [f"item {i}" for i in range(10)]


def _count(texts: Sequence[str], labels: Sequence[str]) -> float:
    return float(len(texts))


def test_the_control_has_the_strategy_budgets_and_is_deterministic_under_a_seed() -> None:
    steps = [ControlStep(2, 4), ControlStep(5, 8), ControlStep(9, 10)]
    drawn: list[tuple[str, ...]] = []

    def record(texts: Sequence[str], labels: Sequence[str]) -> float:
        drawn.append(tuple(texts))
        return len(set(texts)) / 10

    labels = ["x"] * 10
    first = random_control(POOL, labels, steps, score=record, draws=4, random_state=3)
    runs = list(drawn)
    drawn.clear()
    again = random_control(POOL, labels, steps, score=record, draws=4, random_state=3)
    assert [p.budget for p in first] == [2, 5, 9] == [p.n_items for p in first]
    assert first == again and drawn == runs
    drawn.clear()
    random_control(POOL, labels, steps, score=record, draws=4, random_state=4)
    assert drawn != runs  # another seed, other draws


def test_known_answer_the_whole_pool_gives_the_full_data_model() -> None:
    """Budget = pool: every draw trains on every item, so every draw scores the same as
    the model fitted on all of it (here, perfectly: the classes are separable)."""
    texts = ["play jazz", "play a song", "play music", "call mum", "ring dad", "call bob"]
    labels = ["music", "music", "music", "call", "call", "call"]
    gold_texts, gold = ["play some jazz", "call my mum"], ["music", "call"]

    def score(xs: Sequence[str], ys: Sequence[str]) -> float:
        model = get_trainer("tfidf-linear").fit(list(xs), list(ys))
        return evaluate(gold, model.predict_proba(gold_texts), model.classes_).accuracy

    [point] = random_control(texts, labels, [ControlStep(6, 6)], score=score, draws=3)
    assert point.scores == (1.0, 1.0, 1.0) and point.mean == 1.0 and point.sd == 0.0
    assert point.simulated == 0.0


def _unique(index: int, rng: np.random.Generator) -> str:
    """A label unique to its item and draw: no two draws train on the same set."""
    return str(rng.integers(1 << 62))


def test_draws_are_uniform_over_the_items_that_had_arrived_and_nested() -> None:
    seen: Counter[str] = Counter()
    runs: list[dict[str, str]] = []

    def record(texts: Sequence[str], labels: Sequence[str]) -> float:
        seen.update(texts)
        runs.append(dict(zip(texts, labels, strict=True)))
        return 0.0

    unlabelled: list[str | None] = [None] * 10
    # 400 draws of 3 among the first 6: each is drawn with probability 1/2; nothing
    # beyond the 6 that had arrived.
    random_control(POOL, unlabelled, [ControlStep(3, 6)], score=record, simulate=_unique,
                   draws=400)  # fmt: skip
    assert len(runs) == 400 and set(seen) <= set(POOL[:6])
    for text in POOL[:6]:
        assert seen[text] / 400 == pytest.approx(0.5, abs=0.1)
    runs.clear()
    random_control(POOL, unlabelled, [ControlStep(3, 6), ControlStep(6, 10)], score=record,
                   simulate=_unique, draws=20)  # fmt: skip
    # Step 1 scores its 20 draws first, then step 2 its 20, in draw order: each draw's
    # larger sample holds its smaller one, with the same (simulated) labels.
    small, large = runs[:20], runs[20:]
    assert all(a.items() <= b.items() for a, b in zip(small, large, strict=True))


def test_identical_training_sets_are_fitted_once() -> None:
    calls = []

    def record(texts: Sequence[str], labels: Sequence[str]) -> float:
        calls.append(len(texts))
        return 0.5

    # Seed only, then the whole (labelled) pool: every draw is the same set.
    steps = [ControlStep(2, 0, seed=(0, 1)), ControlStep(12, 10, seed=(0, 1))]
    points = random_control(POOL, ["x"] * 10, steps, score=record, seed_texts=["s0", "s1"],
                            seed_labels=["a", "b"], draws=5)  # fmt: skip
    assert calls == [2, 12] and [p.scores for p in points] == [(0.5,) * 5] * 2


def test_people_labels_are_kept_and_only_unlabelled_items_are_simulated() -> None:
    calls: list[int] = []

    def simulate(index: int, rng: np.random.Generator) -> str:
        calls.append(index)
        return "sim"

    pairs: list[list[tuple[str, str]]] = []

    def record(texts: Sequence[str], labels: Sequence[str]) -> float:
        pairs.append(list(zip(texts, labels, strict=True)))
        return 0.0

    labels: list[str | None] = ["people"] * 5 + [None] * 5
    points = random_control(POOL, labels, [ControlStep(10, 10)], score=record,
                            simulate=simulate, draws=2)  # fmt: skip
    assert points[0].simulated == 5.0 and sorted(calls) == sorted(list(range(5, 10)) * 2)
    for draw in pairs:
        assert all((label == "people") == (int(t.split()[1]) < 5) for t, label in draw)
    with pytest.raises(InvalidInput, match="no simulator"):
        random_control(POOL, labels, [ControlStep(10, 10)], score=record)


def test_seed_items_are_always_in_and_count_towards_the_budget() -> None:
    got: list[list[str]] = []

    def record(texts: Sequence[str], labels: Sequence[str]) -> float:
        got.append(list(texts))
        return 0.0

    points = random_control(POOL, ["x"] * 10, [ControlStep(5, 10, seed=(0, 1))], score=record,
                            seed_texts=["s0", "s1"], seed_labels=["a", "b"], draws=3)  # fmt: skip
    assert points[0].n_items == 5
    assert all(texts[:2] == ["s0", "s1"] and len(texts) == 5 for texts in got)


def test_a_pool_smaller_than_the_budget_caps_the_control_and_says_so() -> None:
    [point] = random_control(POOL, ["x"] * 10, [ControlStep(8, 3)], score=_count, draws=2)
    assert (point.budget, point.n_items, point.scores) == (8, 3, (3.0, 3.0))


def test_a_draw_that_cannot_be_scored_is_left_out() -> None:
    [point] = random_control(POOL, ["x"] * 10, [ControlStep(4, 10)],
                             score=lambda texts, labels: None, draws=3)  # fmt: skip
    assert point.scores == () and point.mean is None and point.sd is None
