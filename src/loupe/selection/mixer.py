"""Mix strategies by weight and pick one batch within a labelling budget.

A project configures a mix such as ``{"margin": 0.8, "novelty": 0.2}`` and an
audit share such as 0.05. :func:`select_batch` then

1. sizes the batch: ``min(batch_size, budget_left, pool size)``;
2. draws the audit share uniformly at random from the whole pool first, with
   inverse-probability weights (:mod:`loupe.selection.audit_sample`), so the audit is
   independent of the model;
3. splits the rest between strategies by weight (largest remainder), each
   strategy taking its highest-scoring items not yet taken; ties are broken by
   ``rng``. With ``diversity > 1`` a strategy first shortlists ``diversity x k``
   of its best items and keeps ``k`` of them that are spread out: by BADGE's
   gradient-embedding k-means++ (``diversity_method="badge"``) or by
   farthest-first in feature space (``"farthest"``); see
   :mod:`loupe.selection.diversity`. With ``density_weight = beta > 0`` the
   uncertainty strategies' scores are first multiplied by
   ``pool.density ** beta`` (information density, :mod:`loupe.selection.density`),
   so typical items outrank outliers of equal uncertainty.

Everything random comes from the ``rng`` argument, so a seed reproduces a batch.

>>> import numpy as np
>>> p = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.99, 0.01]])
>>> s = select_batch(Pool(p), mix={"margin": 1.0}, batch_size=2, rng=np.random.default_rng(0))
>>> s.indices.tolist(), s.reasons
([0, 2], ('margin', 'margin'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.selection.audit_sample import draw_audit
from loupe.selection.diversity import DiversityMethod, badge, farthest_first
from loupe.selection.strategies import STRATEGIES, Pool, Strategy

__all__ = ["AUDIT", "DENSITY_WEIGHTED", "Selection", "allocate", "select_batch"]

AUDIT = "audit"
"""The reason recorded for items drawn by the random audit."""

DENSITY_WEIGHTED = frozenset({"entropy", "least_confidence", "margin"})
"""The strategies whose scores ``density_weight`` multiplies by the pool's density."""


@dataclass(frozen=True)
class Selection:
    """A batch: pool positions, why each was picked, and audit weights.

    ``audit_weights[i]`` is ``1 / inclusion probability`` for audit items and 0
    for the others; store it with the label so accuracy can be estimated
    without bias (:func:`loupe.selection.audit_sample.estimate_accuracy`).
    """

    indices: NDArray[np.int64]
    reasons: tuple[str, ...]
    audit_weights: NDArray[np.float64]

    @property
    def size(self) -> int:
        """Number of items selected."""
        return int(self.indices.size)

    @property
    def is_audit(self) -> NDArray[np.bool_]:
        """True for the items drawn by the random audit."""
        return np.array([r == AUDIT for r in self.reasons], dtype=np.bool_)


def allocate(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` slots in proportion to ``weights`` (largest-remainder method).

    >>> allocate(10, {"margin": 0.7, "novelty": 0.3})
    {'margin': 7, 'novelty': 3}
    """
    if not weights:
        raise InvalidInput("the mix is empty; give at least one strategy a weight")
    if any(w < 0 or not np.isfinite(w) for w in weights.values()):
        raise InvalidInput("mix weights must be finite and non-negative", details={"field": "mix"})
    mass = float(sum(weights.values()))
    if mass <= 0:
        raise InvalidInput("mix weights sum to 0; give one strategy a positive weight")
    names = sorted(weights)
    quotas = [total * weights[n] / mass for n in names]
    counts = [int(np.floor(q)) for q in quotas]
    order = sorted(range(len(names)), key=lambda i: (-(quotas[i] - counts[i]), names[i]))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return dict(zip(names, counts, strict=True))


def _top(
    scores: NDArray[np.float64],
    available: NDArray[np.bool_],
    k: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    candidates = np.flatnonzero(available & np.isfinite(scores))
    if k <= 0 or candidates.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Shuffle before a stable sort: equal scores are ordered by rng, not by position.
    shuffled = rng.permutation(candidates)
    order = np.argsort(-scores[shuffled], kind="stable")
    return np.asarray(shuffled[order[:k]], dtype=np.int64)


def select_batch(
    pool: Pool,
    *,
    mix: Mapping[str, float],
    batch_size: int,
    rng: np.random.Generator,
    budget_left: int | None = None,
    audit_share: float = 0.0,
    diversity: float = 1.0,
    diversity_method: DiversityMethod = "badge",
    density_weight: float = 0.0,
    strategies: Mapping[str, Strategy] = STRATEGIES,
) -> Selection:
    """Choose up to ``batch_size`` pool items (never more than ``budget_left``)."""
    if density_weight < 0 or not np.isfinite(density_weight):
        raise InvalidInput(
            "density_weight must be >= 0 (0 = no density weighting)",
            details={"field": "density_weight"},
        )
    if density_weight > 0 and pool.density is None:
        raise InvalidInput(
            "density_weight needs the pool's density (loupe.selection.knn_density)",
            details={"field": "density_weight"},
        )
    if batch_size < 0:
        raise InvalidInput("batch_size must be >= 0", details={"field": "batch_size"})
    if not 0.0 <= audit_share <= 1.0:
        raise InvalidInput(
            f"audit_share must be in [0, 1]; got {audit_share}", details={"field": "audit_share"}
        )
    if diversity < 1.0:
        raise InvalidInput(
            "diversity must be >= 1 (1 = plain top-k)", details={"field": "diversity"}
        )
    unknown = sorted(set(mix) - set(strategies))
    if unknown:
        raise InvalidInput(
            f"unknown strategies in the mix: {unknown}; choose from {sorted(strategies)}",
            details={"field": "mix", "allowed": sorted(strategies)},
        )
    size = min(batch_size, pool.size, batch_size if budget_left is None else max(budget_left, 0))
    # Expected audit count is exactly size * share: floor plus a Bernoulli remainder.
    exact = size * audit_share
    n_audit = int(np.floor(exact)) + int(rng.random() < exact - np.floor(exact))
    audit = draw_audit(pool.size, size=n_audit, rng=rng)
    picked: list[NDArray[np.int64]] = [audit.indices]
    reasons: list[str] = [AUDIT] * n_audit
    weights: list[float] = audit.weights.tolist()
    available = np.ones(pool.size, dtype=np.bool_)
    available[audit.indices] = False
    for name, k in allocate(size - n_audit, mix).items():
        if k == 0:
            continue
        scores = np.asarray(strategies[name](pool, rng), dtype=np.float64)
        if density_weight > 0 and name in DENSITY_WEIGHTED and pool.density is not None:
            scores = scores * np.clip(pool.density, 0.0, 1.0) ** density_weight
        shortlist = _top(scores, available, int(np.ceil(k * diversity)), rng)
        if diversity > 1.0 and pool.features is not None and shortlist.size > k:
            if diversity_method == "badge":
                keep = badge(pool.features[shortlist], pool.probabilities[shortlist], k=k, rng=rng)
            else:
                keep = farthest_first(
                    pool.features[shortlist], k=k, reference=pool.labelled_features
                )
            shortlist = shortlist[keep]
        chosen = shortlist[:k]
        available[chosen] = False
        picked.append(chosen)
        reasons += [name] * chosen.size
        weights += [0.0] * chosen.size
    # Strategies that ran out of scored items leave slots: fill them at random.
    short = size - sum(p.size for p in picked)
    if short > 0:
        fill = _top(rng.random(pool.size), available, short, rng)
        picked.append(fill)
        reasons += ["random"] * fill.size
        weights += [0.0] * fill.size
    return Selection(
        indices=np.concatenate(picked).astype(np.int64),
        reasons=tuple(reasons),
        audit_weights=np.asarray(weights, dtype=np.float64),
    )
