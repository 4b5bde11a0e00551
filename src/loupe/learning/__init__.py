"""Models in the loop: the trainer contract, the built-in text trainer, evaluation, promotion.

Pure domain code: no HTTP, no SQL. See ``docs/learning.md``.

The trainer contract and registry, the evaluation record and promotion
(:mod:`loupe.learning.trainer`, :mod:`loupe.learning.registry`,
:mod:`loupe.learning.evaluation`, :mod:`loupe.learning.promotion`) are imported here and load
NumPy only inside the functions that compute; every other name loads its module, and NumPy,
on first use (starting the server needs neither).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from loupe.learning.evaluation import Evaluation, MetricName, evaluate, predict_with_threshold
from loupe.learning.promotion import (
    ModelVersion,
    PromotionDecision,
    decide_promotion,
    gold_set_fingerprint,
)
from loupe.learning.registry import TRAINERS, get_trainer
from loupe.learning.trainer import AuditCalibratedTrainer, Model, Trainer, predict_labels

if TYPE_CHECKING:
    from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer, embeddings_available
    from loupe.learning.text import LinearTextModel, LinearTextTrainer, TfidfFeaturizer, softmax

# Name -> the module that defines it, imported by ``__getattr__`` on first use.
_LAZY = {
    "EmbeddingModel": "embeddings",
    "EmbeddingTrainer": "embeddings",
    "embeddings_available": "embeddings",
    "LinearTextModel": "text",
    "LinearTextTrainer": "text",
    "TfidfFeaturizer": "text",
    "softmax": "text",
}

__all__ = [
    "TRAINERS",
    "AuditCalibratedTrainer",
    "EmbeddingModel",
    "EmbeddingTrainer",
    "Evaluation",
    "LinearTextModel",
    "LinearTextTrainer",
    "MetricName",
    "Model",
    "ModelVersion",
    "PromotionDecision",
    "TfidfFeaturizer",
    "Trainer",
    "decide_promotion",
    "embeddings_available",
    "evaluate",
    "get_trainer",
    "gold_set_fingerprint",
    "predict_labels",
    "predict_with_threshold",
    "softmax",
]


def __getattr__(name: str) -> object:
    """The NumPy-based names, imported from their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
