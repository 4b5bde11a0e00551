"""Trainers by name: the names a project's settings may use.

Each name maps to a factory that imports its trainer's module, and NumPy, on first use, so
checking a name (as the loop settings do) loads neither.

>>> sorted(TRAINERS)
['embeddings', 'tfidf-linear']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from loupe.errors import InvalidInput
from loupe.learning.trainer import Trainer

__all__ = ["TRAINERS", "get_trainer"]


def _embeddings() -> Trainer:
    """A new :class:`~loupe.learning.embeddings.EmbeddingTrainer`."""
    from loupe.learning.embeddings import EmbeddingTrainer  # numpy on first use

    return EmbeddingTrainer()


def _tfidf_linear() -> Trainer:
    """A new :class:`~loupe.learning.text.LinearTextTrainer`."""
    from loupe.learning.text import LinearTextTrainer  # numpy on first use

    return LinearTextTrainer()


TRAINERS: Mapping[str, Callable[[], Trainer]] = MappingProxyType(
    {"embeddings": _embeddings, "tfidf-linear": _tfidf_linear}
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
