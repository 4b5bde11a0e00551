"""One precedence for out-of-scope: the project's threshold, else the model's rule, else none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from loupe.learning.scope import evaluate_model, predict_in_scope
from loupe.learning.text import LinearTextTrainer
from loupe.learning.trainer import ScopedModel

CLASSES = ("call", "music")


class Ruled:
    """Probabilities 0.6 / 0.4 for every text; its own rule flags texts starting with 'x'."""

    classes_ = CLASSES

    def __init__(self, *, has_rule: bool = True) -> None:
        self.has_rule = has_rule

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return np.tile([0.6, 0.4], (len(texts), 1))

    def predict_with_scope(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_] | None]:
        flags = np.array([t.startswith("x") for t in texts], dtype=bool)
        return self.predict_proba(texts), flags if self.has_rule else None


TEXTS = ["ring mum", "xylophone"]


def test_the_models_rule_applies_without_a_project_threshold() -> None:
    assert isinstance(Ruled(), ScopedModel)
    scoped = predict_in_scope(Ruled(), TEXTS, threshold=None, oos_label="out_of_scope")
    assert scoped.labels == ["call", "out_of_scope"] and scoped.rule == "model"
    np.testing.assert_allclose(scoped.probabilities, [[0.6, 0.4], [0.6, 0.4]])


def test_an_explicit_threshold_wins_over_the_models_rule() -> None:
    low = predict_in_scope(Ruled(), TEXTS, threshold=0.5, oos_label="out_of_scope")
    assert low.labels == ["call", "call"] and low.rule == "threshold"
    high = predict_in_scope(Ruled(), TEXTS, threshold=0.7, oos_label="out_of_scope")
    assert high.labels == ["out_of_scope", "out_of_scope"]


def test_no_out_of_scope_label_or_no_rule_flags_nothing() -> None:
    for model, label in ((Ruled(), None), (Ruled(has_rule=False), "oos")):
        scoped = predict_in_scope(model, TEXTS, threshold=None, oos_label=label)
        assert scoped.labels == ["call", "call"] and scoped.rule == "none"
    # Without a declared label an explicit threshold still says "oos", as it always did.
    assert predict_in_scope(Ruled(), TEXTS, threshold=0.7, oos_label=None).labels == ["oos"] * 2


@pytest.mark.parametrize("threshold", [None, 0.9])
def test_tfidf_models_are_labelled_exactly_as_before(threshold: float | None) -> None:
    from loupe.learning.evaluation import evaluate, predict_with_threshold

    texts = ["play jazz", "call mum", "play a song", "ring dad"]
    model = LinearTextTrainer().fit(texts, ["music", "call", "music", "call"])
    queries = ["play some jazz", "what time is it", "call my dad"]
    scoped = predict_in_scope(model, queries, threshold=threshold, oos_label="oos")
    probs = model.predict_proba(queries)
    np.testing.assert_allclose(scoped.probabilities, probs)
    before = predict_with_threshold(probs, model.classes_, threshold=threshold, oos_label="oos")
    assert scoped.labels == before
    gold = ["music", "oos", "call"]
    metrics = evaluate_model(gold, model, queries, threshold=threshold, oos_label="oos")
    # The same metrics, now with the rule that labelled them recorded.
    assert replace(metrics, oos_rule=None) == evaluate(
        gold, probs, model.classes_, threshold=threshold, oos_label="oos"
    )
    assert metrics.oos_rule == (
        "none" if threshold is None else "project threshold 0.9 (max probability)"
    )


def test_the_gold_evaluation_uses_the_models_rule() -> None:
    gold = ["call", "out_of_scope"]
    metrics = evaluate_model(gold, Ruled(), TEXTS, threshold=None, oos_label="out_of_scope")
    assert (metrics.accuracy, metrics.oos_recall, metrics.oos_precision) == (1.0, 1.0, 1.0)
    assert metrics.threshold is None
    plain = evaluate_model(gold, Ruled(), TEXTS, threshold=None, oos_label=None)
    assert plain.accuracy == 0.5


def test_an_empty_batch_asks_the_model_nothing() -> None:
    scoped = predict_in_scope(Ruled(), [], threshold=None, oos_label="oos")
    assert scoped.labels == [] and scoped.probabilities.shape == (0, 2)


class RuledWithCut(Ruled):
    """:class:`Ruled` with a cut on ``-max logit``, as the embeddings model carries."""

    out_of_scope_threshold = -1.25


@pytest.mark.parametrize(
    ("model", "threshold", "label", "rule"),
    [
        (RuledWithCut(), 0.3, "out_of_scope", "project threshold 0.3 (max probability)"),
        (RuledWithCut(), None, "out_of_scope", "model: -max logit > -1.25"),
        (Ruled(), None, "out_of_scope", "model"),
        (RuledWithCut(), None, None, "none"),
        (Ruled(has_rule=False), None, "out_of_scope", "none"),
    ],
)
def test_the_metrics_record_the_rule_that_labelled_them(
    model: Ruled, threshold: float | None, label: str | None, rule: str
) -> None:
    gold = ["call", "out_of_scope"]
    metrics = evaluate_model(gold, model, TEXTS, threshold=threshold, oos_label=label)
    assert metrics.oos_rule == rule and metrics.as_dict()["oos_rule"] == rule
