"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' kappa, pairwise Cohen's kappa.

All statistics read the same long (item, worker, label) table as the aggregators and treat
labels as nominal. Items with fewer than two answers carry no information on agreement and are
left out of alpha and kappa (they still appear in :func:`label_distribution`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.table import FloatArray, IntArray, LabelTable, ObjectArray

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "FleissKappa",
    "LabelDistribution",
    "PairwiseAgreement",
    "fleiss_kappa",
    "item_entropy",
    "krippendorff_alpha",
    "label_distribution",
    "pairwise_agreement",
]

Column = Sequence[Hashable] | NDArray[Any]


@dataclass(frozen=True, eq=False)
class LabelDistribution:
    """Per item, the answers given to each class (``counts``) and their shares (``proportions``)."""

    items: ObjectArray
    classes: ObjectArray
    counts: FloatArray
    proportions: FloatArray


@dataclass(frozen=True)
class FleissKappa:
    """Fleiss' kappa for the whole table and the category-specific kappa of each class."""

    kappa: float
    per_class: dict[Hashable, float]
    n_items: int


@dataclass(frozen=True, eq=False)
class PairwiseAgreement:
    """Cohen's kappa for every pair of workers that share at least ``min_shared`` items.

    Parallel arrays, one entry per pair (``worker_a < worker_b`` in sorted order): how many items
    both labelled, the observed agreement on them and Cohen's kappa (NaN when chance agreement is
    1, i.e. both always gave the same single class).
    """

    worker_a: ObjectArray
    worker_b: ObjectArray
    n_shared: IntArray
    observed: FloatArray
    kappa: FloatArray


def label_distribution(items: Column, workers: Column, labels: Column) -> LabelDistribution:
    """The full label distribution of each item.

    >>> d = label_distribution(["a", "a", "b"], ["w1", "w2", "w1"], ["x", "y", "x"])
    >>> d.proportions.tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    table = LabelTable.from_sequences(items, workers, labels)
    counts = table.class_counts()
    return LabelDistribution(
        items=table.items,
        classes=table.classes,
        counts=counts,
        proportions=counts / counts.sum(axis=1, keepdims=True),
    )


def item_entropy(
    items: Column, workers: Column, labels: Column, *, base: float = 2.0
) -> FloatArray:
    """Shannon entropy :math:`-\\sum_k p_{ik} \\log p_{ik}` of each item's label distribution.

    In bits by default; 0 when every answer agrees. Rows follow the sorted unique items.

    >>> item_entropy(["a", "a", "b", "b"], ["w1", "w2", "w1", "w2"], ["x", "y", "x", "x"]).tolist()
    [1.0, 0.0]
    """
    shares = label_distribution(items, workers, labels).proportions
    logs = np.log(shares, out=np.zeros_like(shares), where=shares > 0)
    # "+ 0.0" turns the -0.0 of a unanimous item into 0.0.
    return np.asarray(-(shares * logs).sum(axis=1) / np.log(base) + 0.0, dtype=np.float64)


def krippendorff_alpha(items: Column, workers: Column, labels: Column) -> float:
    """Krippendorff's alpha for nominal data.

    With :math:`n_{uc}` the answers of class :math:`c` on unit :math:`u` and :math:`m_u` its
    number of answers (units with :math:`m_u < 2` are not pairable and are dropped), the
    coincidence matrix is :math:`o_{ck} = \\sum_u n_{uc}(n_{uk} - [c = k]) / (m_u - 1)`, with
    marginals :math:`n_c` and total :math:`n`, and

    .. math::

        \\alpha = 1 - (n - 1)\\frac{\\sum_{c \\ne k} o_{ck}}{\\sum_{c \\ne k} n_c n_k}.

    Returns NaN when no disagreement is possible (a single class in use). Reference:
    K. Krippendorff, *Content Analysis: An Introduction to Its Methodology*, 2004, ch. 11;
    "Computing Krippendorff's Alpha-Reliability", 2011.

    >>> round(krippendorff_alpha(["u1", "u1", "u2", "u2"], ["a", "b", "a", "b"], [1, 1, 2, 1]), 3)
    0.0
    """
    counts = LabelTable.from_sequences(items, workers, labels).class_counts()
    per_unit = counts.sum(axis=1)
    pairable = per_unit >= 2
    counts, per_unit = counts[pairable], per_unit[pairable]
    if not len(counts):
        return float("nan")
    scaled = counts / (per_unit - 1)[:, None]
    coincidences = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    marginals = coincidences.sum(axis=1)
    total = marginals.sum()
    observed = coincidences.sum() - np.trace(coincidences)
    expected = total**2 - (marginals**2).sum()
    if expected <= 0:
        return float("nan")
    return float(1.0 - (total - 1.0) * observed / expected)


def fleiss_kappa(items: Column, workers: Column, labels: Column) -> FleissKappa:
    """Fleiss' kappa, overall and per category, for any number of answers per item.

    With :math:`n_{ij}` answers of class :math:`j` on item :math:`i`, :math:`m_i` answers on it
    (items with :math:`m_i < 2` dropped), :math:`p_j = \\sum_i n_{ij} / \\sum_i m_i`:

    .. math::

        \\bar P = \\frac1N \\sum_i \\frac{\\sum_j n_{ij}(n_{ij} - 1)}{m_i(m_i - 1)}, \\quad
        \\kappa = \\frac{\\bar P - \\sum_j p_j^2}{1 - \\sum_j p_j^2}, \\quad
        \\kappa_j = 1 - \\frac{\\sum_i n_{ij}(m_i - n_{ij}) / (m_i - 1)}
                              {(\\sum_i m_i)\\, p_j (1 - p_j)}.

    With a constant :math:`m_i = m` these are Fleiss' (1971) formulas exactly; the per-class
    :math:`\\kappa_j` is his category-specific kappa. NaN where the denominator is 0.
    Reference: J. L. Fleiss, "Measuring nominal scale agreement among many raters",
    *Psychological Bulletin* 76(5):378-382, 1971.

    >>> result = fleiss_kappa(["u", "u", "v", "v"], ["a", "b", "a", "b"], ["x", "x", "y", "y"])
    >>> result.kappa, result.per_class
    (1.0, {'x': 1.0, 'y': 1.0})
    """
    table = LabelTable.from_sequences(items, workers, labels)
    counts = table.class_counts()
    per_item = counts.sum(axis=1)
    keep = per_item >= 2
    counts, per_item = counts[keep], per_item[keep]
    nan = float("nan")
    if not len(counts):
        per_class = dict.fromkeys(table.classes.tolist(), nan)
        return FleissKappa(kappa=nan, per_class=per_class, n_items=0)
    shares = counts.sum(axis=0) / per_item.sum()
    agreement = ((counts * (counts - 1)).sum(axis=1) / (per_item * (per_item - 1))).mean()
    chance = float((shares**2).sum())
    kappa = (agreement - chance) / (1.0 - chance) if chance < 1.0 else nan
    disagreement = (counts * (per_item[:, None] - counts) / (per_item - 1)[:, None]).sum(axis=0)
    spread = per_item.sum() * shares * (1.0 - shares)
    ratio = np.divide(disagreement, spread, out=np.full_like(spread, np.nan), where=spread > 0)
    specific = np.where(spread > 0, 1.0 - ratio, np.nan)
    return FleissKappa(
        kappa=float(kappa),
        per_class=dict(zip(table.classes.tolist(), specific.tolist(), strict=True)),
        n_items=len(counts),
    )


def pairwise_agreement(
    items: Column, workers: Column, labels: Column, *, min_shared: int = 1
) -> PairwiseAgreement:
    """Cohen's kappa :math:`(p_o - p_e)/(1 - p_e)` for each pair of workers on their shared items.

    When a worker answered an item more than once, its most frequent answer there counts (ties:
    the first class in sorted order). Computed with :math:`K^2` sparse products of
    item x worker indicator matrices, so never a loop over pairs.
    Reference: J. Cohen, "A coefficient of agreement for nominal scales",
    *Educational and Psychological Measurement* 20(1):37-46, 1960.

    >>> pairs = pairwise_agreement(["u", "v", "u", "v"], ["a", "a", "b", "b"], ["x", "y", "x", "y"])
    >>> pairs.worker_a.tolist(), pairs.worker_b.tolist(), pairs.kappa.tolist()
    (['a'], ['b'], [1.0])
    """
    import scipy.sparse as sp

    table = LabelTable.from_sequences(items, workers, labels)
    K, W, N = table.n_classes, table.n_workers, table.n_items
    # One answer per (item, worker): the label with the most repeats, lowest code on ties.
    order = np.lexsort((table.label_codes, -table.weights, table.worker_codes, table.item_codes))
    cells = table.item_codes[order] * W + table.worker_codes[order]
    first = np.ones(len(cells), dtype=bool)
    first[1:] = cells[1:] != cells[:-1]
    chosen = order[first]
    rows, cols, answer = (
        table.item_codes[chosen],
        table.worker_codes[chosen],
        table.label_codes[chosen],
    )
    indicators = [
        sp.csr_matrix(
            (np.ones(int((answer == k).sum())), (rows[answer == k], cols[answer == k])),
            shape=(N, W),
        )
        for k in range(K)
    ]
    joint = [[(indicators[c].T @ indicators[d]).tocsr() for d in range(K)] for c in range(K)]
    shared = sum((joint[c][d] for c in range(K) for d in range(K)), sp.csr_matrix((W, W)))
    upper = sp.triu(shared, k=1).tocoo()
    keep = upper.data >= min_shared
    a, b, n = upper.row[keep], upper.col[keep], upper.data[keep]

    def pick(matrix: sp.csr_matrix) -> FloatArray:
        if len(a) == 0:  # one worker, or no pair shares an item: scipy returns a sparse 1x0
            return np.zeros(0)
        return np.asarray(matrix[a, b], dtype=np.float64).reshape(-1)

    agree = sum((pick(joint[c][c]) for c in range(K)), np.zeros(len(a)))
    chance = np.zeros(len(a))
    for c in range(K):
        a_gives_c = sum((pick(joint[c][d]) for d in range(K)), np.zeros(len(a)))
        b_gives_c = sum((pick(joint[d][c]) for d in range(K)), np.zeros(len(a)))
        chance += (a_gives_c / n) * (b_gives_c / n)
    observed = agree / n
    kappa = np.divide(
        observed - chance, 1.0 - chance, out=np.full(len(a), np.nan), where=chance < 1.0 - 1e-12
    )
    return PairwiseAgreement(
        worker_a=table.workers[a],
        worker_b=table.workers[b],
        n_shared=n.astype(np.intp),
        observed=observed,
        kappa=kappa,
    )
