"""Choosing what people label next: pure functions over probabilities and features.

Scores (higher = ask first) from :mod:`~loupe.selection.uncertainty`,
:mod:`~loupe.selection.novelty` and :mod:`~loupe.selection.disagreement`;
strategies by name in :data:`STRATEGIES`; :func:`select_batch` mixes them within
a budget, optionally weighs uncertainty by information density
(:mod:`~loupe.selection.density`) and adds an unbiased random audit
(:mod:`~loupe.selection.audit_sample`);
:mod:`~loupe.selection.stream` offers the same as composable generators.
"""

from loupe.selection.audit_sample import AccuracyEstimate, AuditDraw, draw_audit, estimate_accuracy
from loupe.selection.density import knn_density
from loupe.selection.disagreement import label_disagrees, model_human_disagreement
from loupe.selection.diversity import DiversityMethod, badge, farthest_first
from loupe.selection.mixer import AUDIT, DENSITY_WEIGHTED, Selection, allocate, select_batch
from loupe.selection.novelty import (
    FeatureMatrix,
    is_out_of_scope,
    max_cosine_similarity,
    novelty_score,
    out_of_scope_score,
)
from loupe.selection.strategies import STRATEGIES, Pool, Strategy, get_strategy
from loupe.selection.stream import (
    Audited,
    prefer_high_scores,
    prefer_novel,
    prefer_uncertain,
    score_stream,
    with_audit,
)
from loupe.selection.uncertainty import (
    as_probabilities,
    entropy,
    least_confidence,
    margin,
    margin_score,
    normalized_entropy,
)

__all__ = [
    "AUDIT",
    "DENSITY_WEIGHTED",
    "STRATEGIES",
    "AccuracyEstimate",
    "AuditDraw",
    "Audited",
    "DiversityMethod",
    "FeatureMatrix",
    "Pool",
    "Selection",
    "Strategy",
    "allocate",
    "as_probabilities",
    "badge",
    "draw_audit",
    "entropy",
    "estimate_accuracy",
    "farthest_first",
    "get_strategy",
    "is_out_of_scope",
    "knn_density",
    "label_disagrees",
    "least_confidence",
    "margin",
    "margin_score",
    "max_cosine_similarity",
    "model_human_disagreement",
    "normalized_entropy",
    "novelty_score",
    "out_of_scope_score",
    "prefer_high_scores",
    "prefer_novel",
    "prefer_uncertain",
    "score_stream",
    "select_batch",
    "with_audit",
]
