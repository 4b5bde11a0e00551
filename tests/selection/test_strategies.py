from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.selection.strategies import STRATEGIES, Pool, get_strategy


def test_registry_names() -> None:
    assert sorted(STRATEGIES) == [
        "disagreement",
        "entropy",
        "least_confidence",
        "margin",
        "novelty",
        "out_of_scope",
        "random",
    ]
    with pytest.raises(InvalidInput, match="choose one of"):
        get_strategy("uncertainty")


def test_every_strategy_scores_every_item() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=6)
    feats = rng.normal(size=(6, 4))
    pool = Pool(p, features=feats, labelled_features=feats[:2], human_labels=np.zeros(6, int))
    for name, strategy in STRATEGIES.items():
        scores = strategy(pool, np.random.default_rng(1))
        assert scores.shape == (6,), name


def test_missing_inputs_are_named() -> None:
    pool = Pool(np.array([[0.5, 0.5]]))
    with pytest.raises(InvalidInput, match="features"):
        STRATEGIES["novelty"](pool, np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="human_labels"):
        STRATEGIES["disagreement"](pool, np.random.default_rng(0))
    with pytest.raises(InvalidInput):
        Pool(np.array([[0.5, 0.5]]), features=np.ones((2, 3)))
