from __future__ import annotations

import numpy as np
import pytest

from loupe.aggregation.table import LabelTable, encode
from loupe.errors import InvalidInput


def test_encode_sorts_and_keeps_tuples_whole() -> None:
    uniques, codes = encode([(1, 2), (0, 1), (1, 2)])
    assert uniques.tolist() == [(0, 1), (1, 2)]
    assert codes.tolist() == [1, 0, 1]


def test_encode_does_not_conflate_mixed_types() -> None:
    uniques, codes = encode([1, "1", 1])
    assert uniques.tolist() == [1, "1"]
    assert codes.tolist() == [0, 1, 0]


def test_encode_extra_values_join_the_vocabulary() -> None:
    uniques, codes = encode(["b"], extra=["a", "c"])
    assert uniques.tolist() == ["a", "b", "c"]
    assert codes.tolist() == [1]


def test_duplicates_collapse_into_counts() -> None:
    table = LabelTable.from_sequences(
        ["i", "i", "i", "j"], ["w", "w", "w", "w"], ["x", "x", "y", "x"]
    )
    assert table.n_labels == 4
    assert table.weights.tolist() == [2.0, 1.0, 1.0]
    assert table.class_counts().tolist() == [[2.0, 1.0], [1.0, 0.0]]
    assert table.worker_label_counts().tolist() == [[3.0, 1.0]]
    assert table.counts.shape == (2, 2)
    assert table.counts.toarray().tolist() == [[2.0, 1.0], [1.0, 0.0]]


def test_numpy_input_is_accepted() -> None:
    table = LabelTable.from_sequences(np.array([3, 1]), np.array(["a", "b"]), np.array([0, 1]))
    assert table.items.tolist() == [1, 3]
    assert table.item_codes.tolist() == [0, 1]


def test_declared_classes_are_kept() -> None:
    table = LabelTable.from_sequences(["i"], ["w"], ["b"], classes=["a", "b", "c"])
    assert table.classes.tolist() == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("items", "workers", "labels"),
    [([], [], []), (["i"], ["w", "v"], ["x"])],
)
def test_bad_lengths_are_invalid(items: list[str], workers: list[str], labels: list[str]) -> None:
    with pytest.raises(InvalidInput):
        LabelTable.from_sequences(items, workers, labels)


def test_two_dimensional_arrays_are_invalid() -> None:
    with pytest.raises(InvalidInput, match="one-dimensional"):
        LabelTable.from_sequences(np.zeros((2, 2)), ["a", "b"], ["x", "y"])


def test_gold_codes_ignore_unknown_items_and_reject_unknown_classes() -> None:
    table = LabelTable.from_sequences(["i", "j"], ["w", "w"], ["x", "y"])
    rows, codes = table.gold_codes({"j": "x", "missing": "y"})
    assert rows.tolist() == [1]
    assert codes.tolist() == [0]
    with pytest.raises(InvalidInput, match="not a known class"):
        table.gold_codes({"i": "z"})
