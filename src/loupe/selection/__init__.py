"""Choosing what people label next: pure functions over probabilities and features.

Scores (higher = ask first) from :mod:`~loupe.selection.uncertainty`,
:mod:`~loupe.selection.novelty` and :mod:`~loupe.selection.disagreement`;
strategies by name in :data:`STRATEGIES`; :func:`select_batch` mixes them within
a budget, optionally weighs uncertainty by information density
(:mod:`~loupe.selection.density`) and adds an unbiased random audit
(:mod:`~loupe.selection.audit_sample`);
:mod:`~loupe.selection.stream` offers the same as composable generators.

Every name loads its module, and NumPy, on first use (starting the server needs neither).
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loupe.selection.audit_sample import (
        AccuracyEstimate,
        AuditDraw,
        draw_audit,
        estimate_accuracy,
    )
    from loupe.selection.density import knn_density
    from loupe.selection.disagreement import label_disagrees, model_human_disagreement
    from loupe.selection.diversity import DiversityMethod, badge, farthest_first
    from loupe.selection.mahalanobis import RelativeMahalanobis
    from loupe.selection.mixer import AUDIT, DENSITY_WEIGHTED, Selection, allocate, select_batch
    from loupe.selection.novelty import (
        FeatureMatrix,
        accuracy_budget_threshold,
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

# Name -> the module that defines it, imported by ``__getattr__`` on first use.
_LAZY = {
    "AccuracyEstimate": "audit_sample",
    "AuditDraw": "audit_sample",
    "draw_audit": "audit_sample",
    "estimate_accuracy": "audit_sample",
    "knn_density": "density",
    "label_disagrees": "disagreement",
    "model_human_disagreement": "disagreement",
    "DiversityMethod": "diversity",
    "badge": "diversity",
    "farthest_first": "diversity",
    "AUDIT": "mixer",
    "DENSITY_WEIGHTED": "mixer",
    "Selection": "mixer",
    "allocate": "mixer",
    "select_batch": "mixer",
    "RelativeMahalanobis": "mahalanobis",
    "FeatureMatrix": "novelty",
    "accuracy_budget_threshold": "novelty",
    "is_out_of_scope": "novelty",
    "max_cosine_similarity": "novelty",
    "novelty_score": "novelty",
    "out_of_scope_score": "novelty",
    "STRATEGIES": "strategies",
    "Pool": "strategies",
    "Strategy": "strategies",
    "get_strategy": "strategies",
    "Audited": "stream",
    "prefer_high_scores": "stream",
    "prefer_novel": "stream",
    "prefer_uncertain": "stream",
    "score_stream": "stream",
    "with_audit": "stream",
    "as_probabilities": "uncertainty",
    "entropy": "uncertainty",
    "least_confidence": "uncertainty",
    "margin": "uncertainty",
    "margin_score": "uncertainty",
    "normalized_entropy": "uncertainty",
}

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
    "RelativeMahalanobis",
    "Selection",
    "Strategy",
    "accuracy_budget_threshold",
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


def __getattr__(name: str) -> object:
    """The names of this package, imported from their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
