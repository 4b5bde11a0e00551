"""Label aggregation: infer true labels and worker skills from many noisy answers.

Pure numpy/scipy. Every aggregator reads one long table of (item, worker, label) answers::

    from loupe.aggregation import DawidSkene

    model = DawidSkene().fit(items, workers, labels)
    model.labels_, model.probas_, model.skills_

Also agreement statistics (:mod:`loupe.aggregation.agreement`) and the cheap per-item posterior
and stopping rule used after each submission (:mod:`loupe.aggregation.posterior`).
"""

from loupe.aggregation.agreement import (
    FleissKappa,
    LabelDistribution,
    PairwiseAgreement,
    fleiss_kappa,
    item_entropy,
    krippendorff_alpha,
    label_distribution,
    pairwise_agreement,
)
from loupe.aggregation.base import Aggregator, RandomState
from loupe.aggregation.dawid_skene import DawidSkene
from loupe.aggregation.glad import GLAD
from loupe.aggregation.mace import MACE
from loupe.aggregation.majority_vote import MajorityVote
from loupe.aggregation.one_coin_dawid_skene import OneCoinDawidSkene
from loupe.aggregation.posterior import (
    Decision,
    ItemPosterior,
    StoppingRule,
    WorkerSkills,
    item_posterior,
)
from loupe.aggregation.registry import AGGREGATORS, DEFAULT_METHOD, MethodName
from loupe.aggregation.table import LabelTable
from loupe.aggregation.weighted_majority_vote import WeightedMajorityVote

__all__ = [
    "AGGREGATORS",
    "DEFAULT_METHOD",
    "GLAD",
    "MACE",
    "Aggregator",
    "DawidSkene",
    "Decision",
    "FleissKappa",
    "ItemPosterior",
    "LabelDistribution",
    "LabelTable",
    "MajorityVote",
    "MethodName",
    "OneCoinDawidSkene",
    "PairwiseAgreement",
    "RandomState",
    "StoppingRule",
    "WeightedMajorityVote",
    "WorkerSkills",
    "fleiss_kappa",
    "item_entropy",
    "item_posterior",
    "krippendorff_alpha",
    "label_distribution",
    "pairwise_agreement",
]
