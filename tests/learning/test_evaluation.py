from __future__ import annotations

import json

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning.evaluation import Evaluation, evaluate, predict_with_threshold

CLASSES = ("a", "b")
PROBS = np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45], [0.4, 0.6], [0.3, 0.7]])
GOLD = ["a", "b", "oos", "oos", "a"]


def test_threshold_predicts_out_of_scope() -> None:
    assert predict_with_threshold(PROBS, CLASSES, threshold=0.65) == ["a", "b", "oos", "oos", "b"]
    assert predict_with_threshold(PROBS, CLASSES) == ["a", "b", "a", "b", "b"]


def test_known_metrics() -> None:
    e = evaluate(GOLD, PROBS, CLASSES, threshold=0.65)
    assert e.n == 5
    assert e.accuracy == pytest.approx(4 / 5)
    assert e.in_scope_accuracy == pytest.approx(2 / 3)
    assert e.oos_recall == pytest.approx(1.0)
    assert e.oos_precision == pytest.approx(1.0)
    # macro-F1 over a (P=1, R=0.5), b (P=0.5, R=1), oos (1, 1)
    assert e.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1.0) / 3)
    assert e.get("accuracy") == e.accuracy
    assert e.as_dict()["threshold"] == 0.65


def test_undefined_metrics_are_none() -> None:
    e = evaluate(["a", "b"], PROBS[:2], CLASSES)
    assert e.oos_recall is None
    assert e.oos_precision is None
    assert e.in_scope_accuracy == 1.0


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput):
        evaluate(["a"], PROBS, CLASSES)
    with pytest.raises(InvalidInput):
        evaluate(GOLD, PROBS, ("a", "b", "c"))
    with pytest.raises(InvalidInput):
        evaluate([], np.zeros((0, 2)), CLASSES)


def test_metrics_stored_before_the_rule_was_recorded_still_load() -> None:
    # A model version row's metrics JSON as written before ``oos_rule`` existed.
    old = json.loads(
        '{"n": 5, "accuracy": 0.8, "macro_f1": 0.75, "in_scope_accuracy": 0.8,'
        ' "oos_recall": null, "oos_precision": null, "threshold": null}'
    )
    loaded = Evaluation(**old)
    assert loaded.oos_rule is None and loaded.get("macro_f1") == 0.75
    assert loaded.as_dict() == {**old, "oos_rule": None}
