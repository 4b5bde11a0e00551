"""Regression: Dawid-Skene's result must not depend on how labels, workers and items are named.

Names are encoded in sorted order, so renaming them permutes every floating-point sum. On this
tiny table EM empties the class of the one answer "0" (item 4 is explained by "2"), and the prior
row of that empty class, fitted on counts of ~1e-6, drifted with the rounding: one naming found
it diagonally dominant, the other did not and fell back to the un-smoothed estimator.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pytest

from loupe.aggregation import DawidSkene
from loupe.aggregation.dawid_skene import diagonal_dominant

ROWS = [
    (4, 0, 0),
    (2, 3, 2),
    (2, 1, 2),
    (4, 1, 2),
    (5, 2, 1),
    (1, 1, 1),
    (3, 2, 1),
    (3, 3, 1),
    (1, 4, 1),
    (1, 2, 1),
    (5, 3, 1),
]


@pytest.mark.parametrize("permutation", [(2, 0, 1), (1, 2, 0), (0, 2, 1), (1, 0, 2), (2, 1, 0)])
def test_renaming_labels_changes_nothing_on_a_class_that_em_empties(
    permutation: tuple[int, int, int],
) -> None:
    names = [("x", "y", "z")[k] for k in permutation]
    items, workers, labels = (list(column) for column in zip(*ROWS, strict=True))
    base = DawidSkene(random_state=0).fit(items, workers, labels)
    renamed = DawidSkene(random_state=0).fit(items, workers, [names[k] for k in labels])

    assert renamed.prior_used_ == base.prior_used_ == "empirical"
    columns = [renamed.classes_.tolist().index(names[k]) for k in base.classes_.tolist()]
    np.testing.assert_allclose(renamed.probas_[:, columns], base.probas_, atol=1e-4)
    for worker, skill in base.skills_.items():
        assert renamed.skills_[worker] == pytest.approx(skill, abs=1e-4)
    rename: dict[Hashable, str] = dict(enumerate(names))
    assert {item: rename[label] for item, label in base.labels_.items()} == renamed.labels_
    # The emptied class: no item is given to it, whatever its name.
    assert base.probas_[:, 0].max() < 1e-6


def test_diagonal_dominance_may_skip_unsupported_rows() -> None:
    alpha = np.array([[0.05, 0.0, 350.0], [0.0, 2.6, 0.0], [0.0, 0.006, 0.012]])
    assert not diagonal_dominant(alpha)
    assert diagonal_dominant(alpha, rows=np.array([False, True, True]))
    assert not diagonal_dominant(alpha, rows=np.array([True, True, False]))
