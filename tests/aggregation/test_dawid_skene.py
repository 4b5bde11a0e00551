from __future__ import annotations

import numpy as np
import pytest

from loupe.aggregation import MACE, DawidSkene, MajorityVote, OneCoinDawidSkene
from loupe.aggregation.dawid_skene import PriorMode
from loupe.errors import InvalidInput

from .synthetic import accuracy, make_crowd


def biased_crowd() -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """Two workers who always answer "x"; on the last 10 items they outvote the one good worker.

    On the first 20 items three good workers outvote them, which reveals their bias.
    """
    truth = {f"i{k:02d}": "xy"[k % 2] for k in range(30)}
    items, workers, labels = [], [], []
    for position, (item, label) in enumerate(truth.items()):
        good = ["g1", "g2", "g3"] if position < 20 else ["g1"]
        for worker in [*good, "lazy1", "lazy2"]:
            items.append(item)
            workers.append(worker)
            labels.append("x" if worker.startswith("lazy") else label)
    return items, workers, labels, truth


def test_full_confusions_see_through_constant_answers() -> None:
    items, workers, labels, truth = biased_crowd()
    assert accuracy(MajorityVote().fit_predict(items, workers, labels), truth) == 25 / 30
    model = DawidSkene().fit(items, workers, labels)
    assert accuracy(model.labels_, truth) == 1.0
    lazy = model.workers_.tolist().index("lazy1")
    # Whatever the truth, lazy1 says "x": both rows of its confusion matrix favour column x.
    assert np.all(model.confusions_[lazy][:, 0] > 0.8)
    assert model.skills_["g1"] > 0.8 > model.skills_["lazy1"]
    assert accuracy(MACE().fit_predict(items, workers, labels), truth) == 1.0


@pytest.mark.parametrize(
    ("prior", "tol"),
    # The fitted prior's strength drifts slowly towards "all workers alike" on this crowd (its
    # evidence bound approaches a supremum), so it gets a looser tolerance.
    [("fixed", 1e-9), ("none", 1e-9), ("empirical", 1e-6)],
)
def test_confusions_are_row_stochastic_and_converge(prior: PriorMode, tol: float) -> None:
    crowd = make_crowd(11)
    model = DawidSkene(prior=prior, tol=tol, max_iter=500).fit(
        crowd.items, crowd.workers, crowd.labels
    )
    np.testing.assert_allclose(model.confusions_.sum(axis=2), 1.0)
    np.testing.assert_allclose(model.priors_.sum(), 1.0)
    assert model.n_iter_ < 500
    # EM never decreases its objective (MAP, likelihood or evidence lower bound).
    assert np.all(np.diff(model.objective_) > -1e-9)


def test_gold_anchors_the_confusions() -> None:
    items, workers, labels, truth = biased_crowd()
    # With every item's truth known and no smoothing, the confusions are the exact counts.
    model = DawidSkene(prior="none").fit(items, workers, labels, gold=truth)
    lazy = model.workers_.tolist().index("lazy1")
    np.testing.assert_allclose(model.confusions_[lazy], [[1.0, 0.0], [1.0, 0.0]], atol=1e-12)
    good = model.workers_.tolist().index("g1")
    np.testing.assert_allclose(model.confusions_[good], np.eye(2), atol=1e-12)
    assert model.labels_ == truth


def test_one_coin_reports_accuracies() -> None:
    crowd = make_crowd(5, n_items=80, n_workers=6, accuracy=(0.6, 0.95))
    model = OneCoinDawidSkene().fit(crowd.items, crowd.workers, crowd.labels)
    assert model.accuracies_.shape == (6,)
    assert model.skills_ == dict(
        zip(model.workers_.tolist(), model.accuracies_.tolist(), strict=True)
    )


def test_negative_prior_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="prior_correct"):
        DawidSkene(prior="fixed", prior_correct=-1.0).fit(["a"], ["w"], ["x"])
