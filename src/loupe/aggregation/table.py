"""The long label table every aggregator reads: (item, worker, label) rows as integer codes.

Item, worker and label values may be any hashable values (strings, ints, tuples …). They are
encoded once, here, into codes of their *sorted* unique values, so that every algorithm works on
dense integer codes and a sparse count matrix, and so that the encoding (hence every result) does
not depend on the order of the rows.

Duplicate ``(item, worker)`` rows are kept: a worker who answered an item twice contributes two
observations. Identical ``(item, worker, label)`` rows are collapsed into one triple with a count,
so the algorithms never loop over raw rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["LabelTable", "encode"]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]
ObjectArray = NDArray[np.object_]


def _as_1d(
    values: Sequence[Hashable] | NDArray[Any] | Iterable[Hashable], name: str
) -> NDArray[Any]:
    """A one-dimensional array of ``values`` without coercing mixed types to strings."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InvalidInput(
                f"{name} must be one-dimensional, got shape {values.shape}",
                details={"field": name, "shape": list(values.shape)},
            )
        return values
    as_list = list(values)
    # fromiter keeps each value whole (np.asarray would split tuples and stringify mixed types).
    return np.fromiter(as_list, dtype=object, count=len(as_list))


def _column(
    values: Sequence[Hashable] | NDArray[Any] | Iterable[Hashable], name: str
) -> list[Any] | NDArray[Any]:
    """A list stays a list (:func:`encode` reads it as it is); an array must be 1-D."""
    if isinstance(values, np.ndarray):
        return _as_1d(values, name)
    return values if isinstance(values, list) else list(values)


def encode(
    values: Sequence[Hashable] | NDArray[Any] | Iterable[Hashable],
    *,
    name: str = "values",
    extra: Iterable[Hashable] = (),
) -> tuple[ObjectArray, IntArray]:
    """Encode ``values`` as integer codes into their sorted unique values.

    ``extra`` values join the vocabulary even when absent from ``values`` (e.g. a class no worker
    chose). Values that cannot be ordered together (``1`` and ``"a"``) are ordered by type name,
    then by ``repr``, so the encoding stays deterministic.

    >>> uniques, codes = encode(["b", "a", "b"])
    >>> uniques.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    extra_list = list(extra)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iubf" and not extra_list:
        # Numeric arrays: numpy's own sort is fast (and treats NaNs as one value).
        array = _as_1d(values, name)
        if (
            array.dtype.kind in "iu"
            and len(array)
            and array.min() >= 0
            and array.max() < 4 * len(array)
        ):
            # Dense non-negative ints: a counting pass is O(n), a sort is O(n log n).
            present = np.bincount(array) > 0
            uniques = np.flatnonzero(present)
            codes = (np.cumsum(present) - 1)[array]
            return _as_1d(uniques.tolist(), name), np.asarray(codes, dtype=np.intp)
        uniques, codes = np.unique(array, return_inverse=True)
        return _as_1d(uniques.tolist(), name), np.asarray(codes, dtype=np.intp).reshape(-1)
    if isinstance(values, np.ndarray):
        as_list = _as_1d(values, name).tolist()
    else:
        as_list = values if isinstance(values, list) else list(values)
    return _encode_hashable(as_list, extra_list, name)


def _encode_hashable(
    values: list[Any], extra: list[Hashable], name: str
) -> tuple[ObjectArray, IntArray]:
    """Sorted-vocabulary codes through a dict, never :func:`numpy.unique` on objects.

    ``np.unique`` over an object array sorts every row with Python comparisons: on 1M string
    answers that took ~1.5 CPU-s per column. Here the C-level ``dict.fromkeys`` finds the distinct
    values in one hashing pass, only those are sorted, and a second C-level pass (``map`` of the
    dict lookup into ``np.fromiter``) writes the codes: ~5x less CPU on 1M strings, and
    the same codes (values that ``==`` each other share a code, as in ``np.unique``).
    ``loupe aggregate`` skips it when pyarrow (an optional extra) is installed: it passes pyarrow's
    dictionary codes, dense integers that the counting pass in :func:`encode` keeps as they are.
    """
    distinct = dict.fromkeys(values)
    distinct.update(dict.fromkeys(extra))
    try:
        keyed = sorted(distinct)
    except TypeError:
        # Values that cannot be ordered together (1 and "a"): by type name, then repr.
        keyed = sorted(distinct, key=lambda v: (type(v).__name__, repr(v)))
    index = dict(zip(keyed, range(len(keyed)), strict=True))
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.intp, count=len(values))
    return _as_1d(keyed, name), codes


@dataclass(frozen=True, eq=False)
class LabelTable:
    """Answers as integer codes, their vocabularies and an item x (worker, label) count matrix.

    Attributes:
        items: sorted unique item values (length ``n_items``).
        workers: sorted unique worker values (length ``n_workers``).
        classes: sorted unique labels, including any declared class nobody chose.
        item_codes, worker_codes, label_codes, weights: one entry per distinct
            ``(item, worker, label)`` triple; ``weights`` counts how often it occurred.
        counts: CSR matrix of shape ``(n_items, n_workers * n_classes)``; column
            ``worker * n_classes + label`` counts how often ``worker`` gave ``label`` to the item.

    >>> table = LabelTable.from_sequences(["i1", "i1", "i2"], ["w1", "w2", "w1"], ["a", "b", "a"])
    >>> table.n_items, table.n_workers, table.n_classes, table.n_labels
    (2, 2, 2, 3)
    >>> table.class_counts().tolist()
    [[1.0, 1.0], [1.0, 0.0]]
    """

    items: ObjectArray
    workers: ObjectArray
    classes: ObjectArray
    item_codes: IntArray
    worker_codes: IntArray
    label_codes: IntArray
    weights: FloatArray
    counts: sp.csr_matrix

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_labels(self) -> int:
        """Number of raw rows (duplicates included)."""
        return int(self.weights.sum())

    @classmethod
    def from_sequences(
        cls,
        items: Sequence[Hashable] | NDArray[Any],
        workers: Sequence[Hashable] | NDArray[Any],
        labels: Sequence[Hashable] | NDArray[Any],
        *,
        classes: Iterable[Hashable] | None = None,
    ) -> LabelTable:
        """Build the table from three equal-length sequences, one entry per answer."""
        import scipy.sparse as sp

        item_values = _column(items, "items")
        worker_values = _column(workers, "workers")
        label_values = _column(labels, "labels")
        lengths = {
            "items": len(item_values),
            "workers": len(worker_values),
            "labels": len(label_values),
        }
        if len(set(lengths.values())) != 1:
            raise InvalidInput(
                "items, workers and labels must have the same length (one entry per answer)",
                details={"lengths": lengths},
            )
        if len(item_values) == 0:
            raise InvalidInput("no answers to aggregate: items, workers and labels are empty")
        item_uniques, item_codes = encode(item_values, name="items")
        worker_uniques, worker_codes = encode(worker_values, name="workers")
        class_uniques, label_codes = encode(label_values, name="labels", extra=classes or ())
        n_items, n_classes = len(item_uniques), len(class_uniques)
        n_columns = len(worker_uniques) * n_classes
        columns = worker_codes * n_classes + label_codes
        if n_items * n_columns < 2**62:
            # One int64 key per answer, sorted and counted: the rows of a canonical CSR matrix
            # (sorted, duplicates summed) without scipy's COO -> CSR -> COO round trip.
            keys, repeats = np.unique(item_codes * n_columns + columns, return_counts=True)
            rows, cols = np.divmod(keys, n_columns)
            indptr = np.zeros(n_items + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n_items), out=indptr[1:])
            counts = sp.csr_matrix(
                (repeats.astype(np.float64), cols, indptr), shape=(n_items, n_columns)
            )
            counts.has_sorted_indices = True
        else:  # keys would overflow int64
            counts = sp.csr_matrix(
                (np.ones(len(item_codes)), (item_codes, columns)), shape=(n_items, n_columns)
            )
            counts.sum_duplicates()
            counts.sort_indices()
        coo = counts.tocoo()
        return cls(
            items=item_uniques,
            workers=worker_uniques,
            classes=class_uniques,
            item_codes=coo.row.astype(np.intp),
            worker_codes=(coo.col // n_classes).astype(np.intp),
            label_codes=(coo.col % n_classes).astype(np.intp),
            weights=coo.data.astype(np.float64),
            counts=counts,
        )

    def class_counts(self) -> FloatArray:
        """Item x class matrix: how many answers gave each class to each item."""
        flat = self.item_codes * self.n_classes + self.label_codes
        counts = np.bincount(flat, weights=self.weights, minlength=self.n_items * self.n_classes)
        return np.asarray(counts, dtype=np.float64).reshape(self.n_items, self.n_classes)

    def worker_label_counts(self) -> FloatArray:
        """Worker x class matrix: how many times each worker gave each class."""
        flat = self.worker_codes * self.n_classes + self.label_codes
        counts = np.bincount(flat, weights=self.weights, minlength=self.n_workers * self.n_classes)
        return np.asarray(counts, dtype=np.float64).reshape(self.n_workers, self.n_classes)

    def worker_totals(self) -> FloatArray:
        """Number of answers per worker (duplicates included)."""
        totals = np.bincount(self.worker_codes, weights=self.weights, minlength=self.n_workers)
        return np.asarray(totals, dtype=np.float64)

    def gold_codes(self, gold: Mapping[Any, Hashable] | None) -> tuple[IntArray, IntArray]:
        """Codes ``(item_rows, class_codes)`` of the gold answers for items in the table.

        Gold for items without answers is ignored; a gold label outside :attr:`classes` is an
        error, because the model could never predict it (declare it in ``classes``).
        """
        if not gold:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        item_index = {value: position for position, value in enumerate(self.items.tolist())}
        class_index = {value: position for position, value in enumerate(self.classes.tolist())}
        rows: list[int] = []
        codes: list[int] = []
        for item, label in gold.items():
            row = item_index.get(item)
            if row is None:
                continue
            code = class_index.get(label)
            if code is None:
                raise InvalidInput(
                    f"gold label {label!r} for item {item!r} is not a known class; "
                    "declare it with classes=...",
                    details={"item": repr(item), "label": repr(label)},
                )
            rows.append(row)
            codes.append(code)
        return np.asarray(rows, dtype=np.intp), np.asarray(codes, dtype=np.intp)
