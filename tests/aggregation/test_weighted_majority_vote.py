from __future__ import annotations

import pytest

from loupe.aggregation import MajorityVote, WeightedMajorityVote
from loupe.errors import InvalidInput


def test_weights_overrule_the_head_count() -> None:
    items, workers, labels = ["a"] * 3, ["expert", "w2", "w3"], ["x", "y", "y"]
    assert MajorityVote().fit_predict(items, workers, labels) == {"a": "y"}
    model = WeightedMajorityVote({"expert": 3.0}).fit(items, workers, labels)
    assert model.labels_ == {"a": "x"}
    assert model.probas_.tolist() == [[0.6, 0.4]]


def test_zero_weights_give_uniform_posteriors() -> None:
    model = WeightedMajorityVote({}, default_weight=0.0).fit(["a", "a"], ["w", "v"], ["x", "y"])
    assert model.probas_.tolist() == [[0.5, 0.5]]


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_bad_weights_are_invalid(weight: float) -> None:
    with pytest.raises(InvalidInput, match="finite and >= 0"):
        WeightedMajorityVote({"w": weight}).fit(["a"], ["w"], ["x"])
