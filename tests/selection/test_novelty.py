from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loupe.errors import InvalidInput
from loupe.selection.novelty import (
    is_out_of_scope,
    max_cosine_similarity,
    novelty_score,
    out_of_scope_score,
)


def test_out_of_scope_threshold() -> None:
    p = np.array([[0.9, 0.1], [0.55, 0.45]])
    assert out_of_scope_score(p) == pytest.approx([0.1, 0.45])
    assert is_out_of_scope(p, threshold=0.6).tolist() == [False, True]
    with pytest.raises(InvalidInput):
        is_out_of_scope(p, threshold=0.0)


def test_cosine_similarity_dense_and_sparse_agree() -> None:
    features = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    labelled = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    dense = max_cosine_similarity(features, labelled)
    sparse = max_cosine_similarity(sp.csr_matrix(features), sp.csr_matrix(labelled))
    assert dense == pytest.approx([1.0, np.sqrt(0.5), 0.0, 0.0])
    assert sparse == pytest.approx(dense)
    assert novelty_score(features, labelled) == pytest.approx(1 - dense)


def test_empty_reference_and_mismatched_columns() -> None:
    assert max_cosine_similarity(np.ones((2, 3)), np.zeros((0, 3))).tolist() == [0.0, 0.0]
    with pytest.raises(InvalidInput):
        max_cosine_similarity(np.ones((2, 3)), np.ones((1, 4)))
