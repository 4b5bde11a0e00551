from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _scoped(n: int, f1: float, oos_recall: float, oos_precision: float) -> ModelVersion:
    metrics = Evaluation(120, f1, f1, f1, oos_recall, oos_precision, 0.3)
    return ModelVersion(n, "embeddings", (), metrics, GOLD)


def test_oos_f1_known_answers() -> None:
    assert _scoped(1, 0.4, 1.0, 0.25).metrics.oos_f1 == pytest.approx(0.4)
    assert _scoped(1, 0.4, 0.0, 0.0).metrics.get("oos_f1") == 0.0
    assert Evaluation(10, 0.5, 0.5, 0.5, None, None, None).oos_f1 is None
    # Nothing flagged: recall 0, precision undefined, F1 0 (a loss the guard must see).
    assert Evaluation(10, 0.5, 0.5, 0.5, 0.0, None, None).get("oos_f1") == 0.0


@given(
    recall=st.floats(0, 1, allow_nan=False), precision=st.floats(0, 1, allow_nan=False)
)  # fmt: skip
def test_oos_f1_lies_between_recall_and_precision(recall: float, precision: float) -> None:
    f1 = Evaluation(10, 0.5, 0.5, 0.5, recall, precision, None).oos_f1
    assert f1 is not None
    assert min(recall, precision) - 1e-12 <= f1 <= max(recall, precision) + 1e-12


def test_a_champion_that_calls_everything_out_of_scope_does_not_block_a_better_model() -> None:
    # The loop's seed model (2 examples per intent) flagged every gold item: recall 1.
    champ = _scoped(1, 0.31, oos_recall=1.0, oos_precision=0.27)
    chall = _scoped(2, 0.60, oos_recall=0.83, oos_precision=0.33)
    assert not decide_promotion(champ, chall, guards={"oos_recall": 0.05}).promote
    assert decide_promotion(champ, chall, guards={"oos_f1": 0.05}).promote
    # A real loss of out-of-scope detection is still refused.
    worse = _scoped(2, 0.60, oos_recall=0.5, oos_precision=0.9)
    keeper = _scoped(1, 0.31, oos_recall=0.9, oos_precision=0.9)
    d = decide_promotion(keeper, worse, guards={"oos_f1": 0.05})
    assert not d.promote and "oos_f1 fell" in d.reason
