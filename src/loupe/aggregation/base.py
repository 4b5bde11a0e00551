"""The aggregator contract: ``fit`` a long (item, worker, label) table, read learned state.

Every aggregator is an sklearn-style estimator: hyper-parameters in ``__init__``, ``fit``
returns ``self``, learned state carries a trailing underscore:

* ``items_``, ``classes_``, ``workers_`` — the sorted vocabularies (object arrays);
* ``probas_`` — ``(n_items, n_classes)`` posterior over the true class, rows sum to 1;
* ``labels_`` — ``{item: most probable class}``; ties are broken at random with ``random_state``;
* ``skills_`` — ``{worker: accuracy-like skill in [0, 1]}`` (model-specific, documented per class).

The helpers here (seeding, tie-breaking) are shared by every aggregator; the argument checks
are in :mod:`loupe.aggregation.checks`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.table import FloatArray, IntArray, LabelTable, ObjectArray
from loupe.errors import InvalidInput

__all__ = ["Aggregator", "RandomState"]

RandomState = int | np.random.Generator | None
"""An explicit seed or generator; ``None`` means seed 0 (results never depend on global state)."""


def as_generator(random_state: RandomState) -> np.random.Generator:
    """A fresh generator for ``random_state`` (an int seed, a generator, or ``None`` for 0)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(0 if random_state is None else random_state)


def argmax_random_ties(probas: FloatArray, rng: np.random.Generator) -> IntArray:
    """Row-wise argmax; exact ties (within 1e-12) are broken uniformly at random."""
    if probas.shape[1] == 0:
        return np.zeros(probas.shape[0], dtype=np.intp)
    best = probas.max(axis=1, keepdims=True)
    tied = probas >= best - 1e-12
    noise = rng.random(probas.shape)
    return np.asarray(np.argmax(np.where(tied, noise, -1.0), axis=1), dtype=np.intp)


class Aggregator(ABC):
    """Base class: infer each item's true class from many workers' noisy labels."""

    classes: Sequence[Hashable] | None
    random_state: RandomState

    items_: ObjectArray
    workers_: ObjectArray
    classes_: ObjectArray
    probas_: FloatArray
    labels_: dict[Hashable, Hashable]
    skills_: dict[Hashable, float]
    _codes: IntArray
    _item_index: dict[Hashable, int]

    def __init__(
        self, *, classes: Sequence[Hashable] | None = None, random_state: RandomState = None
    ) -> None:
        self.classes = classes
        self.random_state = random_state

    def fit(
        self,
        items: Sequence[Hashable] | NDArray[Any],
        workers: Sequence[Hashable] | NDArray[Any],
        labels: Sequence[Hashable] | NDArray[Any],
        *,
        gold: Mapping[Any, Hashable] | None = None,
    ) -> Self:
        """Fit on one answer per position of ``items``, ``workers`` and ``labels``.

        ``gold`` maps some items to their known class: their posteriors are clamped to it, which
        anchors the worker estimates. Gold for items with no answers is ignored.
        """
        table = LabelTable.from_sequences(
            items, workers, labels, classes=self._declared_classes(gold)
        )
        gold_rows, gold_codes = table.gold_codes(gold)
        rng = as_generator(self.random_state)
        probas, skills = self._fit_table(table, gold_rows, gold_codes, rng)
        self.items_ = table.items
        self.workers_ = table.workers
        self.classes_ = table.classes
        self.probas_ = probas
        self._codes = self._argmax(probas, rng)
        self._item_index = {}
        self.labels_ = dict(
            zip(table.items.tolist(), table.classes[self._codes].tolist(), strict=True)
        )
        self.skills_ = dict(zip(table.workers.tolist(), skills.tolist(), strict=True))
        return self

    def fit_predict(
        self,
        items: Sequence[Hashable] | NDArray[Any],
        workers: Sequence[Hashable] | NDArray[Any],
        labels: Sequence[Hashable] | NDArray[Any],
        *,
        gold: Mapping[Any, Hashable] | None = None,
    ) -> dict[Hashable, Hashable]:
        """Fit, then return ``labels_``."""
        return self.fit(items, workers, labels, gold=gold).labels_

    def predict(self, items: Iterable[Hashable] | None = None) -> ObjectArray:
        """Most probable class for ``items`` (default: every fitted item, in ``items_`` order)."""
        self._check_fitted()
        if items is None:
            return self.classes_[self._codes].copy()
        rows = [self._item_row(item, "predict") for item in items]
        return self.classes_[self._codes[np.asarray(rows, dtype=np.intp)]]

    def predict_proba(self, items: Iterable[Hashable] | None = None) -> FloatArray:
        """Posterior rows (columns in ``classes_`` order) for ``items`` (default: all)."""
        self._check_fitted()
        if items is None:
            return self.probas_.copy()
        rows = [self._item_row(item, "predict_proba") for item in items]
        return self.probas_[np.asarray(rows, dtype=np.intp)]

    def _argmax(self, probas: FloatArray, rng: np.random.Generator) -> IntArray:
        """The class code chosen for each item; ties at random (a subclass may choose a rule)."""
        return argmax_random_ties(probas, rng)

    @abstractmethod
    def _fit_table(
        self,
        table: LabelTable,
        gold_rows: IntArray,
        gold_codes: IntArray,
        rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``(probas, skills)``: item x class posteriors and one skill per worker."""

    def _declared_classes(self, gold: Mapping[Any, Hashable] | None) -> list[Hashable]:
        declared = list(self.classes or ())
        if gold:
            declared.extend(gold.values())
        return declared

    def _check_fitted(self) -> None:
        if not hasattr(self, "probas_"):
            raise InvalidInput(f"{type(self).__name__} is not fitted yet: call fit() first")

    def _item_row(self, item: Hashable, method: str) -> int:
        if not self._item_index:
            self._item_index = {value: row for row, value in enumerate(self.items_.tolist())}
        row = self._item_index.get(item)
        if row is None:
            raise InvalidInput(
                f"{method}: item {item!r} was not in the fitted data", details={"item": repr(item)}
            )
        return row

    def __repr__(self) -> str:
        params = ", ".join(
            f"{name}={value!r}"
            for name, value in vars(self).items()
            if not name.endswith("_") and not name.startswith("_")
        )
        return f"{type(self).__name__}({params})"
