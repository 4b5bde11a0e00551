"""The dict-based encoding and CSR build of :class:`LabelTable` match the numpy.unique path."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.aggregation import DawidSkene, MajorityVote
from loupe.aggregation.table import LabelTable, encode

VALUES = st.one_of(
    st.text(alphabet="ab-1 é", max_size=3),
    st.integers(-3, 3),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
)


def unique_encode(values: list[Hashable]) -> tuple[list[Any], list[int]]:
    """The encoding before the dict path: numpy.unique over an object array."""
    array = np.fromiter(values, dtype=object, count=len(values))
    try:
        uniques, codes = np.unique(array, return_inverse=True)
        return uniques.tolist(), codes.reshape(-1).tolist()
    except TypeError:
        keyed = sorted(set(values), key=lambda v: (type(v).__name__, repr(v)))
        return keyed, [keyed.index(value) for value in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="abc,é ", max_size=4), st.integers(-3, 3)), min_size=1))
def test_encode_matches_numpy_unique(values: list[Hashable]) -> None:
    uniques, codes = encode(values)
    expected_uniques, expected_codes = unique_encode(values)
    assert uniques.tolist() == expected_uniques
    assert codes.tolist() == expected_codes


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(VALUES, st.sampled_from(["w1", "w2", "w3"]), VALUES), min_size=1))
def test_table_matches_a_scipy_build(rows: list[tuple[Hashable, str, Hashable]]) -> None:
    items, workers, labels = (list(column) for column in zip(*rows, strict=True))
    table = LabelTable.from_sequences(items, workers, labels)
    item_uniques, item_codes = unique_encode(items)
    _, worker_codes = unique_encode(workers)
    class_uniques, label_codes = unique_encode(labels)
    assert table.items.tolist() == item_uniques
    assert table.classes.tolist() == class_uniques
    k = len(class_uniques)
    expected = sp.csr_matrix(
        (
            np.ones(len(rows)),
            (np.asarray(item_codes), np.asarray(worker_codes) * k + np.asarray(label_codes)),
        ),
        shape=table.counts.shape,
    )
    expected.sum_duplicates()
    assert (table.counts != expected).nnz == 0
    assert table.counts.has_canonical_format
    np.testing.assert_array_equal(
        table.item_codes * table.counts.shape[1] + table.worker_codes * k + table.label_codes,
        np.sort(
            table.item_codes * table.counts.shape[1] + table.worker_codes * k + table.label_codes
        ),
    )
    assert table.n_labels == len(rows)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 4), st.sampled_from(["x", "y", "z"])),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_aggregates_do_not_depend_on_id_type_or_row_order(
    rows: list[tuple[int, int, str]], shuffle: Any
) -> None:
    """String ids, int ids and shuffled rows give the same aggregate."""
    items, workers, labels = (list(column) for column in zip(*rows, strict=True))
    for model_type in (MajorityVote, DawidSkene):
        as_ints = model_type().fit(np.asarray(items), np.asarray(workers), labels)
        shuffled = list(rows)
        shuffle.shuffle(shuffled)
        s_items, s_workers, s_labels = (list(column) for column in zip(*shuffled, strict=True))
        as_text = model_type().fit(
            [f"{i:03d}" for i in s_items], [f"w{w}" for w in s_workers], s_labels
        )
        assert [int(item) for item in as_text.items_.tolist()] == as_ints.items_.tolist()
        np.testing.assert_allclose(as_text.probas_, as_ints.probas_, atol=1e-9)
        assert as_text.predict().tolist() == as_ints.predict().tolist()


def test_extra_classes_and_numeric_arrays() -> None:
    uniques, codes = encode(np.array([2, 0, 2]), extra=[1])
    assert uniques.tolist() == [0, 1, 2]
    assert codes.tolist() == [2, 0, 2]
    uniques, codes = encode(np.array([0.5, np.nan, 0.5, np.nan]))
    assert codes.tolist() == [0, 1, 0, 1]
    uniques, codes = encode(np.array(["b", "a"]))
    assert uniques.tolist() == ["a", "b"]
    assert type(uniques[0]) is str
