"""Aggregators by short name, as the CLI and project settings spell them."""

from __future__ import annotations

from typing import Final, Literal

from loupe.aggregation.base import Aggregator
from loupe.aggregation.dawid_skene import DawidSkene
from loupe.aggregation.glad import GLAD
from loupe.aggregation.mace import MACE
from loupe.aggregation.majority_vote import MajorityVote
from loupe.aggregation.one_coin_dawid_skene import OneCoinDawidSkene
from loupe.aggregation.weighted_majority_vote import WeightedMajorityVote

__all__ = ["AGGREGATORS", "DEFAULT_METHOD", "MethodName"]

MethodName = Literal["mv", "wmv", "ds", "ocds", "glad", "mace"]

AGGREGATORS: Final[dict[str, type[Aggregator]]] = {
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "ds": DawidSkene,
    "ocds": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
}

DEFAULT_METHOD: Final[MethodName] = "ds"
"""Full Dawid-Skene whose Dirichlet prior is fitted to each dataset by marginal likelihood
(``DawidSkene(prior="empirical")``): no hyper-parameter was chosen on benchmark data."""
