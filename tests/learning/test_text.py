from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning.text import LinearTextTrainer, TfidfFeaturizer, softmax
from loupe.learning.trainer import Model, Trainer, predict_labels

TEXTS = [
    "book a flight to rome",
    "fly me to paris tomorrow",
    "i need a plane ticket",
    "play some jazz music",
    "put on a song by queen",
    "play the next track",
    "what is the weather today",
    "will it rain tomorrow",
    "how hot is it outside",
]
LABELS = ["travel"] * 3 + ["music"] * 3 + ["weather"] * 3


def test_softmax_rows_sum_to_one_and_temperature_sharpens() -> None:
    scores = np.array([[1.0, 0.0, -1.0], [1000.0, 0.0, 0.0]])
    p1 = softmax(scores)
    p5 = softmax(scores, temperature=5.0)
    assert p1.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert p5[0, 0] > p1[0, 0]
    assert np.isfinite(p1).all()


def test_trainer_fits_and_predicts() -> None:
    trainer = LinearTextTrainer()
    assert isinstance(trainer, Trainer)
    model = trainer.fit(TEXTS, LABELS)
    assert isinstance(model, Model)
    assert model.classes_ == ("music", "travel", "weather")
    probs = model.predict_proba(["play a jazz song", "flight to rome", "is it raining"])
    assert probs.shape == (3, 3)
    assert probs.sum(axis=1) == pytest.approx(np.ones(3))
    assert predict_labels(model, ["play a jazz song", "flight to rome", "will it rain"]) == [
        "music",
        "travel",
        "weather",
    ]
    assert predict_labels(model, []) == []


def test_two_classes_give_two_columns() -> None:
    model = LinearTextTrainer().fit(TEXTS[:6], LABELS[:6])
    probs = model.predict_proba(["play jazz", "book a flight"])
    assert probs.shape == (2, 2)
    assert predict_labels(model, ["play jazz", "book a flight"]) == ["music", "travel"]


def test_vocabulary_texts_extend_features() -> None:
    small = TfidfFeaturizer().fit(TEXTS[:3])
    trainer = LinearTextTrainer(vocabulary_texts=TEXTS)
    model = trainer.fit(TEXTS[:6], LABELS[:6])
    assert model.featurizer.transform(["weather"]).nnz > small.transform(["weather"]).nnz


def test_featurizer_rows_have_unit_norm() -> None:
    x = TfidfFeaturizer().fit(TEXTS).transform(TEXTS)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert norms == pytest.approx(np.ones(len(TEXTS)))


@pytest.mark.parametrize(
    ("texts", "labels"),
    [(TEXTS[:2], LABELS[:1]), (TEXTS[:3], LABELS[:3]), (["", " "], ["a", "b"])],
)
def test_bad_training_data(texts: list[str], labels: list[str]) -> None:
    with pytest.raises(InvalidInput):
        LinearTextTrainer().fit(texts, labels)


def test_unfitted_featurizer_and_bad_hyperparameters() -> None:
    with pytest.raises(InvalidInput, match="not fitted"):
        TfidfFeaturizer().transform(["x"])
    with pytest.raises(InvalidInput):
        LinearTextTrainer(c=0.0)
