from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loupe.errors import InvalidInput
from loupe.selection.diversity import farthest_first


def test_picks_spread_out_rows() -> None:
    x = np.array([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.7, 0.7]])
    assert farthest_first(x, k=2).tolist() == [0, 2]
    assert farthest_first(sp.csr_matrix(x), k=2).tolist() == [0, 2]


def test_reference_counts_as_already_chosen() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert farthest_first(x, k=1, reference=np.array([[1.0, 0.05]])).tolist() == [1]


def test_edge_cases() -> None:
    assert farthest_first(np.ones((3, 2)), k=0).size == 0
    assert sorted(farthest_first(np.eye(3), k=5).tolist()) == [0, 1, 2]
    with pytest.raises(InvalidInput):
        farthest_first(np.eye(3), k=-1)


def test_badge_prefers_uncertain_then_spread() -> None:
    from loupe.selection.diversity import badge

    x = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0], [0.7, 0.7]])
    p = np.array([[0.5, 0.5], [0.55, 0.45], [0.6, 0.4], [0.99, 0.01]])
    picked = badge(x, p, k=2, rng=np.random.default_rng(0))
    assert picked[0] == 0  # largest gradient: the most uncertain row
    assert picked.size == 2
    assert np.unique(picked).size == 2
    assert badge(x, p, k=0, rng=np.random.default_rng(0)).size == 0
    assert sorted(badge(x, p, k=9, rng=np.random.default_rng(0)).tolist()) == [0, 1, 2, 3]
    with pytest.raises(InvalidInput):
        badge(x, p[:2], k=1, rng=np.random.default_rng(0))
