"""Selection strategies: each scores every pool item, higher meaning "label it first".

A strategy is a plain function ``(pool, rng) -> scores``; :data:`STRATEGIES` maps
the names a project configures to them. Add one by adding an entry (a registry,
not a plugin framework).

>>> import numpy as np
>>> pool = Pool(probabilities=np.array([[0.5, 0.4, 0.1], [0.9, 0.05, 0.05]]))
>>> STRATEGIES["margin"](pool, np.random.default_rng(0)).round(6).tolist()
[0.9, 0.15]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.selection.disagreement import model_human_disagreement
from loupe.selection.novelty import FeatureMatrix, novelty_score, out_of_scope_score
from loupe.selection.uncertainty import (
    as_probabilities,
    entropy,
    least_confidence,
    margin_score,
)

__all__ = ["STRATEGIES", "Pool", "Strategy", "get_strategy"]

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Pool:
    """What strategies may look at, one row per candidate item.

    ``probabilities``: the model's class probabilities. ``features``: a feature
    or embedding row per item (for novelty and diversity). ``labelled_features``:
    the rows already labelled. ``human_labels``: a class index per item where a
    person has labelled it, ``-1`` where not (for disagreement). ``density``: how
    typical each item is of the pool (:func:`loupe.selection.knn_density`), for
    density-weighted uncertainty.
    """

    probabilities: Floats
    features: FeatureMatrix | None = None
    labelled_features: FeatureMatrix | None = None
    human_labels: NDArray[np.int64] | None = None
    density: Floats | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "probabilities", as_probabilities(self.probabilities))
        n = self.probabilities.shape[0]
        if self.features is not None and self.features.shape[0] != n:
            raise InvalidInput(
                f"features have {self.features.shape[0]} rows for {n} items",
                details={"field": "features"},
            )
        if self.human_labels is not None and np.shape(self.human_labels) != (n,):
            raise InvalidInput(
                f"human_labels must have one entry per item ({n})",
                details={"field": "human_labels"},
            )
        if self.density is not None and np.shape(self.density) != (n,):
            raise InvalidInput(
                f"density must have one entry per item ({n})", details={"field": "density"}
            )

    @property
    def size(self) -> int:
        """Number of candidate items."""
        return int(self.probabilities.shape[0])


Strategy = Callable[[Pool, np.random.Generator], Floats]
"""``(pool, rng) -> one score per item``; higher is selected first."""


def _random(pool: Pool, rng: np.random.Generator) -> Floats:
    return rng.random(pool.size)


def _least_confidence(pool: Pool, rng: np.random.Generator) -> Floats:
    return least_confidence(pool.probabilities)


def _margin(pool: Pool, rng: np.random.Generator) -> Floats:
    return margin_score(pool.probabilities)


def _entropy(pool: Pool, rng: np.random.Generator) -> Floats:
    return entropy(pool.probabilities)


def _out_of_scope(pool: Pool, rng: np.random.Generator) -> Floats:
    return out_of_scope_score(pool.probabilities)


def _novelty(pool: Pool, rng: np.random.Generator) -> Floats:
    if pool.features is None or pool.labelled_features is None:
        raise InvalidInput(
            "the novelty strategy needs features for the pool and for the labelled items",
            details={"field": "features"},
        )
    return novelty_score(pool.features, pool.labelled_features)


def _disagreement(pool: Pool, rng: np.random.Generator) -> Floats:
    if pool.human_labels is None:
        raise InvalidInput(
            "the disagreement strategy needs human_labels (-1 where unlabelled)",
            details={"field": "human_labels"},
        )
    labels = np.asarray(pool.human_labels, dtype=np.int64)
    scores = np.full(pool.size, -np.inf)
    has = labels >= 0
    if has.any():
        scores[has] = model_human_disagreement(pool.probabilities[has], labels[has])
    return scores


STRATEGIES: Mapping[str, Strategy] = MappingProxyType(
    {
        "disagreement": _disagreement,
        "entropy": _entropy,
        "least_confidence": _least_confidence,
        "margin": _margin,
        "novelty": _novelty,
        "out_of_scope": _out_of_scope,
        "random": _random,
    }
)


def get_strategy(name: str) -> Strategy:
    """Look a strategy up by name, or raise :class:`InvalidInput` listing the known names."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise InvalidInput(
            f"unknown selection strategy {name!r}; choose one of {sorted(STRATEGIES)}",
            details={"field": "strategy", "allowed": sorted(STRATEGIES)},
        ) from None
