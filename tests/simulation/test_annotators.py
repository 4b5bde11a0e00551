from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.simulation.annotators import (
    SimulatedAnnotators,
    aggregate_votes,
    estimate_accuracies,
)


def test_accuracies_drawn_in_range_and_labels_follow_them() -> None:
    rng = np.random.default_rng(0)
    panel = SimulatedAnnotators.draw(3, accuracy=(0.6, 0.95), rng=rng)
    assert np.all((panel.accuracies >= 0.6) & (panel.accuracies <= 0.95))
    truth = rng.integers(0, 10, size=20000)
    votes = panel.annotate(truth, n_classes=10, rng=rng)
    observed = (votes == truth[:, None]).mean(axis=0)
    assert observed == pytest.approx(panel.accuracies, abs=0.01)
    assert votes.min() >= 0
    assert votes.max() < 10


def test_bad_panels() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInput):
        SimulatedAnnotators.draw(0, accuracy=(0.6, 0.9), rng=rng)
    with pytest.raises(InvalidInput):
        SimulatedAnnotators.draw(3, accuracy=(0.9, 0.6), rng=rng)


def test_majority_vote_known_answer() -> None:
    votes = np.array([[1, 1, 0], [2, 2, 2], [0, 1, 1]])
    out = aggregate_votes(votes, n_classes=3, rng=np.random.default_rng(0))
    assert out.tolist() == [1, 2, 1]


def test_weighted_vote_breaks_ties_towards_better_annotator() -> None:
    votes = np.array([[0, 1, 2]])
    acc = np.array([0.6, 0.95, 0.7])
    assert aggregate_votes(votes, n_classes=5, rng=np.random.default_rng(0), accuracies=acc)[0] == 1


def test_one_coin_em_recovers_accuracies_and_beats_majority() -> None:
    rng = np.random.default_rng(1)
    panel = SimulatedAnnotators(np.array([0.6, 0.75, 0.95]))
    truth = rng.integers(0, 50, size=3000)
    votes = panel.annotate(truth, n_classes=50, rng=rng)
    est = estimate_accuracies(votes, n_classes=50)
    assert est == pytest.approx(panel.accuracies, abs=0.03)
    weighted = aggregate_votes(votes, n_classes=50, rng=rng, accuracies=est)
    majority = aggregate_votes(votes, n_classes=50, rng=rng)
    assert (weighted == truth).mean() > (majority == truth).mean()


def test_model_prior_decides_three_way_splits_but_not_agreement() -> None:
    k = 50
    acc = np.array([0.8, 0.8, 0.8])
    votes = np.array([[0, 1, 2], [0, 0, 3]])
    prior = np.full((2, k), 0.01 / (k - 1))
    prior[0, 2] = 0.99  # the model favours one of the three split votes
    prior[1, 3] = 0.99  # ... and here the lone dissenter, against two agreeing annotators
    rng = np.random.default_rng(0)
    out = aggregate_votes(
        votes, n_classes=k, rng=rng, accuracies=acc, prior=prior, prior_weight=0.5
    )
    assert out.tolist() == [2, 0]
    # Near-certain and barely tempered, the model may overrule two annotators.
    out = aggregate_votes(
        votes, n_classes=k, rng=rng, accuracies=acc, prior=prior, prior_weight=0.95
    )
    assert out.tolist() == [2, 3]
    with pytest.raises(InvalidInput):
        aggregate_votes(votes, n_classes=k, rng=rng, prior=prior)
    with pytest.raises(InvalidInput):
        aggregate_votes(votes, n_classes=k, rng=rng, accuracies=acc, prior=prior[:1])
