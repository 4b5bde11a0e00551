from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loupe.errors import InvalidInput
from loupe.selection.uncertainty import (
    entropy,
    least_confidence,
    margin,
    margin_score,
    normalized_entropy,
)

P = np.array([[0.5, 0.4, 0.1], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_known_answers() -> None:
    assert margin(P) == pytest.approx([0.1, 1.0, 0.0])
    assert margin_score(P) == pytest.approx([0.9, 0.0, 1.0])
    assert least_confidence(P) == pytest.approx([0.5, 0.0, 2 / 3])
    expected = -(0.5 * np.log(0.5) + 0.4 * np.log(0.4) + 0.1 * np.log(0.1))
    assert entropy(P) == pytest.approx([expected, 0.0, np.log(3)])
    assert normalized_entropy(P)[2] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad",
    [np.array([0.5, 0.5]), np.array([[1.0]]), np.array([[0.7, 0.7]]), np.array([[np.nan, 1.0]])],
)
def test_rejects_non_probabilities(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        margin(bad)


def _rows(n_classes: int) -> st.SearchStrategy[np.ndarray]:
    raw = arrays(
        np.float64,
        (4, n_classes),
        elements=st.floats(0.01, 1.0, allow_nan=False, allow_infinity=False),
    )
    return raw.map(lambda a: a / a.sum(axis=1, keepdims=True))


@settings(max_examples=50, deadline=None)
@given(data=st.data(), n_classes=st.integers(2, 6))
def test_scores_invariant_to_class_permutation(data: st.DataObject, n_classes: int) -> None:
    p = data.draw(_rows(n_classes))
    perm = data.draw(st.permutations(range(n_classes)))
    q = p[:, list(perm)]
    for fn in (margin, least_confidence, entropy, normalized_entropy):
        assert fn(q) == pytest.approx(fn(p))


@settings(max_examples=50, deadline=None)
@given(data=st.data(), n_classes=st.integers(2, 6))
def test_scores_in_range(data: st.DataObject, n_classes: int) -> None:
    p = data.draw(_rows(n_classes))
    assert np.all((margin(p) >= -1e-12) & (margin(p) <= 1 + 1e-12))
    assert np.all(least_confidence(p) <= 1 - 1 / n_classes + 1e-9)
    assert np.all(normalized_entropy(p) <= 1 + 1e-9)
