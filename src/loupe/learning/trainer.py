"""The contract between the loop and any model: :class:`Trainer` and :class:`Model`.

A trainer turns labelled texts into a model; a model gives class probabilities.
Nothing else is assumed, so a scikit-learn pipeline, a sentence-embedding model
or a remote service can all sit behind the same two methods.

>>> from loupe.learning.text import LinearTextTrainer
>>> model = LinearTextTrainer().fit(["hi there", "bye now"], ["greet", "leave"])
>>> model.classes_
('greet', 'leave')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: the contract itself needs no NumPy
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["AuditCalibratedTrainer", "Model", "ScopedModel", "Trainer", "predict_labels"]


@runtime_checkable
class Model(Protocol):
    """A fitted classifier over texts."""

    @property
    def classes_(self) -> tuple[str, ...]:
        """Class names, in the column order of :meth:`predict_proba`."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """``(len(texts), len(classes_))`` probabilities; rows sum to 1."""
        ...


@runtime_checkable
class ScopedModel(Model, Protocol):
    """A model that carries its own out-of-scope rule (the embeddings trainer's).

    The loop applies it only where the project sets no ``oos_threshold`` of its own
    (:func:`loupe.learning.scope.predict_in_scope`).
    """

    def predict_with_scope(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_] | None]:
        """Probabilities as :meth:`predict_proba`, and True where the text is out of
        scope by the model's rule (``None`` when this model has no rule)."""
        ...


@runtime_checkable
class Trainer(Protocol):
    """Fits a :class:`Model` from texts and their labels (same length)."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Model: ...


@runtime_checkable
class AuditCalibratedTrainer(Trainer, Protocol):
    """A trainer that calibrates on the rows that sample the traffic (the embeddings trainer).

    ``audit`` marks a project's random-audit items among ``texts``: unlike actively
    selected items they are a random sample of what the model will see, so a threshold
    set on them carries over to new traffic.
    """

    def fit_with_calibration(
        self, texts: Sequence[str], labels: Sequence[str], audit: Sequence[bool]
    ) -> Model: ...


def predict_labels(model: Model, texts: Sequence[str]) -> list[str]:
    """The most probable class name for each text."""
    if not texts:
        return []
    probs = model.predict_proba(texts)
    return [model.classes_[i] for i in probs.argmax(axis=1)]
