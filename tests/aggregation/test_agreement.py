from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from loupe.aggregation import (
    fleiss_kappa,
    item_entropy,
    krippendorff_alpha,
    label_distribution,
    pairwise_agreement,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal example C:
# 4 observers x 12 units, "." = missing. Published nominal alpha = 0.743.
RELIABILITY_DATA = """
1 2 3 3 2 1 4 1 2 . . .
1 2 3 3 2 2 4 1 2 5 . 3
. 3 3 3 2 3 4 2 2 5 1 .
1 2 3 3 2 4 4 1 2 5 1 .
"""

# Fleiss (via the Wikipedia worked example): 10 subjects, 14 raters each, 5 categories.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def reliability_rows() -> tuple[list[int], list[str], list[int]]:
    items, workers, labels = [], [], []
    for observer, line in zip("ABCD", RELIABILITY_DATA.split("\n")[1:], strict=False):
        for unit, value in enumerate(line.split()):
            if value != ".":
                items.append(unit)
                workers.append(observer)
                labels.append(int(value))
    return items, workers, labels


def fleiss_rows() -> tuple[list[int], list[int], list[int]]:
    items, workers, labels = [], [], []
    for subject, counts in enumerate(FLEISS_TABLE):
        rater = 0
        for category, count in enumerate(counts, start=1):
            for _ in range(count):
                items.append(subject)
                workers.append(rater)
                labels.append(category)
                rater += 1
    return items, workers, labels


def test_krippendorff_alpha_matches_the_published_example() -> None:
    assert krippendorff_alpha(*reliability_rows()) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_edge_cases() -> None:
    assert krippendorff_alpha(["u", "u"], ["a", "b"], ["x", "x"]) != krippendorff_alpha(
        ["u", "u", "v", "v"], ["a", "b", "a", "b"], ["x", "x", "x", "y"]
    )
    assert math.isnan(krippendorff_alpha(["u", "u"], ["a", "b"], ["x", "x"]))
    assert math.isnan(krippendorff_alpha(["u", "v"], ["a", "b"], ["x", "y"]))
    perfect = krippendorff_alpha(["u", "u", "v", "v"], ["a", "b", "a", "b"], ["x", "x", "y", "y"])
    assert perfect == 1.0


def test_fleiss_kappa_matches_the_worked_example() -> None:
    result = fleiss_kappa(*fleiss_rows())
    assert result.kappa == pytest.approx(0.210, abs=5e-4)
    assert result.n_items == 10
    # Category-specific kappa, Fleiss (1971): 1 - sum n_ij (m - n_ij) / (N m (m-1) p_j q_j).
    counts = np.array(FLEISS_TABLE, dtype=float)
    shares = counts.sum(axis=0) / counts.sum()
    expected = 1 - (counts * (14 - counts)).sum(axis=0) / (10 * 14 * 13 * shares * (1 - shares))
    assert list(result.per_class) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(list(result.per_class.values()), expected)


def test_fleiss_kappa_without_pairable_items() -> None:
    result = fleiss_kappa(["u"], ["a"], ["x"])
    assert math.isnan(result.kappa)
    assert result.n_items == 0


def test_pairwise_kappa_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(3, size=40)
    answers = {
        worker: np.where(rng.random(40) < accuracy, truth, rng.integers(3, size=40))
        for worker, accuracy in (("a", 0.9), ("b", 0.7), ("c", 0.5))
    }
    items = [i for worker in answers for i in range(40) if not (worker == "c" and i < 10)]
    workers = [worker for worker in answers for i in range(40) if not (worker == "c" and i < 10)]
    labels = [int(answers[w][i]) for w, i in zip(workers, items, strict=True)]
    pairs = pairwise_agreement(items, workers, labels)
    assert list(zip(pairs.worker_a.tolist(), pairs.worker_b.tolist(), strict=True)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    assert pairs.n_shared.tolist() == [40, 30, 30]
    expected = [
        cohen_kappa_score(answers["a"], answers["b"]),
        cohen_kappa_score(answers["a"][10:], answers["c"][10:]),
        cohen_kappa_score(answers["b"][10:], answers["c"][10:]),
    ]
    np.testing.assert_allclose(pairs.kappa, expected)
    np.testing.assert_allclose(pairs.observed[0], np.mean(answers["a"] == answers["b"]))
    assert len(pairwise_agreement(items, workers, labels, min_shared=35).kappa) == 1


def test_pairwise_kappa_uses_the_most_frequent_repeat() -> None:
    pairs = pairwise_agreement(
        ["u", "u", "u", "u", "v", "v"],
        ["a", "a", "a", "b", "a", "b"],
        ["x", "y", "y", "y", "x", "x"],
    )
    assert pairs.observed.tolist() == [1.0]


def test_distribution_and_entropy() -> None:
    rows = (["a", "a", "a", "a", "b"], ["1", "2", "3", "4", "1"], ["x", "x", "y", "z", "z"])
    distribution = label_distribution(*rows)
    assert distribution.items.tolist() == ["a", "b"]
    assert distribution.classes.tolist() == ["x", "y", "z"]
    assert distribution.counts.tolist() == [[2, 1, 1], [0, 0, 1]]
    np.testing.assert_allclose(distribution.proportions.sum(axis=1), 1.0)
    assert item_entropy(*rows).tolist() == [1.5, 0.0]
    assert item_entropy(*rows, base=math.e)[0] == pytest.approx(1.5 * math.log(2))


def test_pairwise_agreement_with_a_single_worker_has_no_pairs() -> None:
    from loupe.aggregation.agreement import pairwise_agreement

    pairs = pairwise_agreement(["u", "v"], ["a", "a"], ["x", "y"])
    assert pairs.worker_a.tolist() == []
    assert pairs.kappa.tolist() == []
