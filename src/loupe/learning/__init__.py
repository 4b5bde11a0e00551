"""Models in the loop: the trainer contract, the built-in text trainer, evaluation, promotion.

Pure domain code: no HTTP, no SQL. See ``docs/learning.md``.
"""

from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer, embeddings_available
from loupe.learning.evaluation import Evaluation, MetricName, evaluate, predict_with_threshold
from loupe.learning.promotion import (
    ModelVersion,
    PromotionDecision,
    decide_promotion,
    gold_set_fingerprint,
)
from loupe.learning.registry import TRAINERS, get_trainer
from loupe.learning.text import LinearTextModel, LinearTextTrainer, TfidfFeaturizer, softmax
from loupe.learning.trainer import Model, Trainer, predict_labels

__all__ = [
    "TRAINERS",
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
