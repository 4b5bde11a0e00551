from __future__ import annotations

import numpy as np
import pytest

from loupe.aggregation import MajorityVote


def test_known_answer() -> None:
    model = MajorityVote().fit(
        ["a", "a", "a", "b", "b", "c"],
        ["w1", "w2", "w3", "w1", "w2", "w3"],
        ["x", "x", "y", "y", "y", "x"],
    )
    assert model.labels_ == {"a": "x", "b": "y", "c": "x"}
    np.testing.assert_allclose(model.probas_, [[2 / 3, 1 / 3], [0.0, 1.0], [1.0, 0.0]])
    # Expected share of matching answers: w3 gave a "y" (share 1/3) and c "x" (share 1).
    assert model.skills_ == pytest.approx({"w1": 5 / 6, "w2": 5 / 6, "w3": 2 / 3})


def test_ties_are_broken_by_the_random_state() -> None:
    items, workers, labels = ["a"] * 2 * 50, ["w", "v"] * 50, ["x", "y"] * 50
    picks = {
        MajorityVote(random_state=seed)
        .fit([f"{i}" for i in range(100)], workers, labels)
        .labels_["0"]
        for seed in range(20)
    }
    assert len(items) == 100
    assert picks == {"x"}  # item "0" has one answer: no tie
    tied = {
        MajorityVote(ties="random", random_state=seed).fit_predict(
            ["a", "a"], ["w", "v"], ["x", "y"]
        )["a"]
        for seed in range(20)
    }
    assert tied == {"x", "y"}
