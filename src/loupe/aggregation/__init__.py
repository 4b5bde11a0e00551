"""Label aggregation: infer true labels and worker skills from many noisy answers.

Pure NumPy/SciPy. Every aggregator reads one long table of (item, worker, label) answers::

    from loupe.aggregation import DawidSkene

    model = DawidSkene().fit(items, workers, labels)
    model.labels_, model.probas_, model.skills_

Also agreement statistics (:mod:`loupe.aggregation.agreement`) and the cheap per-item posterior
and stopping rule used after each submission (:mod:`loupe.aggregation.posterior`).

Task types that are not one of a fixed set of classes have their own consensus: Bradley-Terry
strengths from pairwise preferences (:mod:`loupe.aggregation.bradley_terry`), exact-match span
votes and span F1 agreement (:mod:`loupe.aggregation.spans`), bounding boxes matched by IoU and
fused with skill weights (:mod:`loupe.aggregation.boxes`, imported on its own), time segments
fused the same way by 1-D IoU (:mod:`loupe.aggregation.segments`), transcripts fused word by
word (:mod:`loupe.aggregation.transcripts`), and the best
peer-reviewed answer for free text (:mod:`loupe.aggregation.free_text`).

The free-text and span consensus are plain Python and imported here; every other name loads
its module, and NumPy, on first use (a plain submit needs neither).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from loupe.aggregation.free_text import (
    RankedText,
    TextCandidate,
    choose_free_text,
    normalize_text,
    rank_free_text,
    wilson_lower_bound,
)
from loupe.aggregation.spans import Span, SpanVote, mean_pairwise_f1, span_consensus, span_f1

if TYPE_CHECKING:
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
    from loupe.aggregation.bradley_terry import BradleyTerry
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

# Name -> the module that defines it, imported by ``__getattr__`` on first use.
_LAZY = {
    "FleissKappa": "agreement",
    "LabelDistribution": "agreement",
    "PairwiseAgreement": "agreement",
    "fleiss_kappa": "agreement",
    "item_entropy": "agreement",
    "krippendorff_alpha": "agreement",
    "label_distribution": "agreement",
    "pairwise_agreement": "agreement",
    "Aggregator": "base",
    "RandomState": "base",
    "BradleyTerry": "bradley_terry",
    "DawidSkene": "dawid_skene",
    "GLAD": "glad",
    "MACE": "mace",
    "MajorityVote": "majority_vote",
    "OneCoinDawidSkene": "one_coin_dawid_skene",
    "Decision": "posterior",
    "ItemPosterior": "posterior",
    "StoppingRule": "posterior",
    "WorkerSkills": "posterior",
    "item_posterior": "posterior",
    "AGGREGATORS": "registry",
    "DEFAULT_METHOD": "registry",
    "MethodName": "registry",
    "LabelTable": "table",
    "WeightedMajorityVote": "weighted_majority_vote",
}

__all__ = [
    "AGGREGATORS",
    "DEFAULT_METHOD",
    "GLAD",
    "MACE",
    "Aggregator",
    "BradleyTerry",
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
    "RankedText",
    "Span",
    "SpanVote",
    "StoppingRule",
    "TextCandidate",
    "WeightedMajorityVote",
    "WorkerSkills",
    "choose_free_text",
    "fleiss_kappa",
    "item_entropy",
    "item_posterior",
    "krippendorff_alpha",
    "label_distribution",
    "mean_pairwise_f1",
    "normalize_text",
    "pairwise_agreement",
    "rank_free_text",
    "span_consensus",
    "span_f1",
    "wilson_lower_bound",
]


def __getattr__(name: str) -> object:
    """The NumPy-based names, imported from their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
