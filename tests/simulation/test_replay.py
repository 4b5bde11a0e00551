from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.simulation.datasets import LabelledTexts
from loupe.simulation.replay import ReplayConfig, replay

WORDS = {
    "travel": ["flight", "plane", "ticket", "airport", "rome", "paris"],
    "music": ["song", "jazz", "album", "track", "band", "guitar"],
    "weather": ["rain", "sunny", "forecast", "cold", "storm", "wind"],
    "food": ["pizza", "pasta", "recipe", "dinner", "salad", "bread"],
}


def _data(n_per_class: int, seed: int) -> LabelledTexts:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in WORDS.items():
        for _ in range(n_per_class):
            picked = rng.choice(words, size=3)
            noise = rng.choice([w for ws in WORDS.values() for w in ws])
            texts.append(" ".join([*picked, noise]))
            labels.append(label)
    return LabelledTexts(tuple(texts), tuple(labels), "synthetic")


TRAIN = _data(30, 0)
TEST = _data(10, 1)


def test_oracle_curve_shape_and_budget() -> None:
    curve = replay(TRAIN, TEST, ReplayConfig(batch_size=10, budget=44, seed=3))
    used = [r.labels_used for r in curve.rounds]
    assert used == [4, 14, 24, 34, 44]
    assert all(r.label_accuracy == 1.0 for r in curve.rounds)
    assert curve.rounds[-1].evaluation.accuracy > 0.8
    assert curve.annotator_accuracies == ()
    assert curve.labels_to_reach(0.0) == 4.0
    assert curve.labels_to_reach(1.01) is None


def test_deterministic_with_seed() -> None:
    config = ReplayConfig(batch_size=8, budget=30, seed=5, annotators=3, diversity=2.0)
    a = replay(TRAIN, TEST, config).to_dict()
    b = replay(TRAIN, TEST, config).to_dict()
    for r in a["rounds"] + b["rounds"]:
        r.pop("seconds")
    assert a == b


def test_noisy_annotators_are_marked_simulated() -> None:
    config = ReplayConfig(batch_size=20, budget=60, annotators=3, annotator_accuracy=(0.6, 0.7))
    out = replay(TRAIN, TEST, config).to_dict()
    meta = out["meta"]["annotators"]
    assert meta["simulated"] is True
    assert "SIMULATED" in meta["note"]
    assert len(meta["accuracies"]) == 3
    assert all(0.6 <= a <= 0.7 for a in meta["accuracies"])
    assert out["rounds"][-1]["annotations"] == 3 * (60 - 4)
    assert out["rounds"][-1]["label_accuracy"] < 1.0


def test_batch_growth_and_audit_share() -> None:
    curve = replay(
        TRAIN, TEST, ReplayConfig(batch_size=5, batch_growth=0.5, budget=60, audit_share=0.2)
    )
    used = [r.labels_used for r in curve.rounds]
    assert used[:4] == [4, 9, 14, 21]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strategy": {"psychic": 1.0}},
        {"batch_size": 0},
        {"annotators": -1},
        {"batch_growth": -1},
        {"annotators": 3, "max_annotators": 2},
        {"overlap_target": 0.0},
    ],
)
def test_bad_configs(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        ReplayConfig(**kwargs)  # type: ignore[arg-type]


def test_one_class_is_not_enough() -> None:
    one = LabelledTexts(("a", "b"), ("x", "x"))
    with pytest.raises(InvalidInput):
        replay(one, one, ReplayConfig())


def test_dynamic_overlap_asks_more_only_where_needed() -> None:
    fixed = ReplayConfig(batch_size=20, budget=116, annotators=3, annotator_accuracy=(0.55, 0.7))
    dynamic = ReplayConfig(**{**fixed.__dict__, "max_annotators": 5, "overlap_target": 0.95})
    assert dynamic.panel_size == 5 and dynamic.dynamic_overlap and not fixed.dynamic_overlap
    a = replay(TRAIN, TEST, fixed)
    b = replay(TRAIN, TEST, dynamic)
    bought = b.rounds[-1].labels_used - b.rounds[0].labels_used
    assert b.rounds[-1].annotations == replay(TRAIN, TEST, dynamic).rounds[-1].annotations
    assert 3 * bought < b.rounds[-1].annotations <= 5 * bought
    assert a.rounds[-1].annotations == 3 * bought
    assert len(b.annotator_accuracies) == 5
    assert b.to_dict()["meta"]["config"]["max_annotators"] == 5
