from __future__ import annotations

import pytest

from loupe.errors import InvalidInput
from loupe.learning.evaluation import Evaluation
from loupe.learning.promotion import ModelVersion, decide_promotion, gold_set_fingerprint

GOLD = gold_set_fingerprint(["g2", "g1"])


def _version(n: int, f1: float, oos_recall: float | None = 0.8, gold: str = GOLD) -> ModelVersion:
    metrics = Evaluation(100, f1, f1, f1, oos_recall, 0.9, 0.5)
    return ModelVersion(n, "tfidf-linear", tuple(f"item-{i}" for i in range(n)), metrics, gold)


def test_fingerprint_ignores_order() -> None:
    assert gold_set_fingerprint(["g1", "g2"]) == GOLD
    assert gold_set_fingerprint(["g1"]) != GOLD


def test_first_model_is_promoted() -> None:
    d = decide_promotion(None, _version(1, 0.5))
    assert d.promote
    assert d.champion_value is None


def test_minimum_improvement() -> None:
    champ = _version(1, 0.80)
    assert decide_promotion(champ, _version(2, 0.81), min_improvement=0.005).promote
    d = decide_promotion(champ, _version(2, 0.803), min_improvement=0.005)
    assert not d.promote
    assert d.improvement == pytest.approx(0.003)
    assert "less than" in d.reason
    assert not decide_promotion(champ, _version(2, 0.79)).promote


def test_guards_block_regressions() -> None:
    champ = _version(1, 0.80, oos_recall=0.9)
    chall = _version(2, 0.85, oos_recall=0.7)
    d = decide_promotion(champ, chall, guards={"oos_recall": 0.05})
    assert not d.promote
    assert "oos_recall" in d.reason
    assert decide_promotion(champ, chall, guards={"oos_recall": 0.25}).promote


def test_training_ids_are_recorded_exactly() -> None:
    v = _version(3, 0.7)
    assert v.training_ids == ("item-0", "item-1", "item-2")


def test_refuses_different_gold_sets_and_bad_options() -> None:
    other = _version(2, 0.9, gold=gold_set_fingerprint(["x"]))
    with pytest.raises(InvalidInput, match="different gold sets"):
        decide_promotion(_version(1, 0.8), other)
    with pytest.raises(InvalidInput):
        decide_promotion(None, _version(1, 0.8), min_improvement=-1)
    with pytest.raises(InvalidInput):
        decide_promotion(None, _version(1, 0.8, oos_recall=None), metric="oos_recall")
