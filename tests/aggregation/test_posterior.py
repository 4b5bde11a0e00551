from __future__ import annotations

import numpy as np
import pytest

from loupe.aggregation import (
    DawidSkene,
    MajorityVote,
    StoppingRule,
    WorkerSkills,
    item_posterior,
)
from loupe.errors import InvalidInput

from .synthetic import make_crowd


def test_one_coin_posterior_by_hand() -> None:
    skills = WorkerSkills(("a", "b", "c"), accuracies={"w": 0.8}, default_accuracy=0.5)
    post = item_posterior(skills, ["w", "new"], ["a", "b"])
    # a: 0.8 * 0.25, b: 0.1 * 0.5, c: 0.1 * 0.25 (uniform prior cancels)
    np.testing.assert_allclose(post.probas, np.array([0.2, 0.05, 0.025]) / 0.275)
    assert post.label == "a"
    assert post.n_labels == 2


def test_no_answers_gives_the_prior() -> None:
    skills = WorkerSkills(("a", "b"), prior=np.array([0.25, 0.75]))
    post = item_posterior(skills, [], [])
    np.testing.assert_allclose(post.probas, [0.25, 0.75])


def test_posterior_matches_dawid_skene_on_fitted_items() -> None:
    crowd = make_crowd(2, n_items=30)
    model = DawidSkene().fit(crowd.items, crowd.workers, crowd.labels)
    skills = WorkerSkills.from_model(model)
    answers = [
        (w, lab)
        for i, w, lab in zip(crowd.items, crowd.workers, crowd.labels, strict=True)
        if i == "item3"
    ]
    post = item_posterior(skills, [w for w, _ in answers], [lab for _, lab in answers])
    # DS's probas_ come from the E-step one M-step before its final parameters: close, not equal.
    np.testing.assert_allclose(post.probas, model.predict_proba(["item3"])[0], atol=0.05)


def test_from_model_uses_skills_for_other_models() -> None:
    model = MajorityVote().fit(["i", "i"], ["w", "v"], ["a", "a"])
    skills = WorkerSkills.from_model(model, default_accuracy=0.6)
    assert skills.accuracies == {"v": 1.0, "w": 1.0}
    assert skills.default_accuracy == 0.6


def test_single_class_and_confusions() -> None:
    single = item_posterior(WorkerSkills(("only",)), ["w"], ["only"])
    assert single.probas.tolist() == [1.0]
    flipper = WorkerSkills(("a", "b"), confusions={"f": np.array([[0.0, 1.0], [1.0, 0.0]])})
    assert item_posterior(flipper, ["f"], ["a"]).label == "b"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"default_accuracy": 1.0}, "default_accuracy"),
        ({"prior": np.array([1.0])}, "prior"),
        ({"confusions": {"w": np.eye(3)}}, "confusion matrix"),
    ],
)
def test_bad_skills_are_invalid(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        WorkerSkills(("a", "b"), **kwargs)  # type: ignore[arg-type]


def test_unknown_label_and_length_mismatch_are_invalid() -> None:
    skills = WorkerSkills(("a", "b"))
    with pytest.raises(InvalidInput, match="not one of the classes"):
        item_posterior(skills, ["w"], ["zzz"])
    with pytest.raises(InvalidInput, match="same length"):
        item_posterior(skills, ["w", "v"], ["a"])


def test_stopping_rule() -> None:
    rule = StoppingRule(target=0.9, min_labels=2, max_labels=3)
    skills = WorkerSkills(("a", "b"), default_accuracy=0.9)
    assert rule.decide(item_posterior(skills, ["1"], ["a"])) == "needs_more"  # below min_labels
    assert rule.decide(item_posterior(skills, ["1", "2"], ["a", "a"])) == "done"
    assert rule.decide(item_posterior(skills, ["1", "2"], ["a", "b"])) == "needs_more"
    assert rule.decide(item_posterior(skills, ["1", "2", "3"], ["a", "b", "a"])) == "done"
    split = WorkerSkills(("a", "b"), accuracies={"3": 0.5}, default_accuracy=0.9)
    assert rule.decide(item_posterior(split, ["1", "2", "3"], ["a", "b", "a"])) == "escalate"


@pytest.mark.parametrize(
    "kwargs",
    [{"target": 0.0}, {"target": 1.5}, {"min_labels": 0}, {"min_labels": 4, "max_labels": 3}],
)
def test_bad_stopping_rules_are_invalid(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        StoppingRule(**kwargs)  # type: ignore[arg-type]
