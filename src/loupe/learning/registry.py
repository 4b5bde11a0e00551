"""Trainers by name: the names a project's settings may use.

>>> sorted(TRAINERS)
['embeddings', 'tfidf-linear']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from loupe.errors import InvalidInput
from loupe.learning.embeddings import EmbeddingTrainer
from loupe.learning.text import LinearTextTrainer
from loupe.learning.trainer import Trainer

__all__ = ["TRAINERS", "get_trainer"]

TRAINERS: Mapping[str, Callable[[], Trainer]] = MappingProxyType(
    {"embeddings": EmbeddingTrainer, "tfidf-linear": LinearTextTrainer}
)


def get_trainer(name: str) -> Trainer:
    """A new trainer with default settings, or :class:`InvalidInput` listing the names."""
    try:
        factory = TRAINERS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown trainer {name!r}; choose one of {sorted(TRAINERS)}",
            details={"field": "trainer", "allowed": sorted(TRAINERS)},
        ) from None
    return factory()
