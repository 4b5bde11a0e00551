from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loupe.errors import InvalidInput
from loupe.simulation.annotators import (
    NOT_ASKED,
    SimulatedAnnotators,
    aggregate_votes,
    ask_until_confident,
    estimate_accuracies,
    posterior,
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


def test_posterior_ignores_annotators_not_asked() -> None:
    acc = np.array([0.9, 0.7, 0.8])
    full = np.array([[0, 0, 1], [2, 1, 1]])
    masked = np.array([[0, NOT_ASKED, 1], [NOT_ASKED, 1, 1]])
    got = posterior(masked, n_classes=4, accuracies=acc)
    assert got[0] == pytest.approx(
        posterior(full[:1, [0, 2]], n_classes=4, accuracies=acc[[0, 2]])[0]
    )
    assert got[1] == pytest.approx(posterior(full[1:, 1:], n_classes=4, accuracies=acc[1:])[0])


@settings(max_examples=60, deadline=None)
@given(
    votes=arrays(np.int64, (6, 4), elements=st.integers(-1, 4)),
    acc=arrays(np.float64, 4, elements=st.floats(0.05, 0.99)),
)
def test_posterior_rows_sum_to_one_and_unasked_columns_change_nothing(
    votes: np.ndarray, acc: np.ndarray
) -> None:
    votes[:, 0] = np.abs(votes[:, 0])  # every item has at least one answer
    post = posterior(votes, n_classes=5, accuracies=acc)
    assert post.sum(axis=1) == pytest.approx(np.ones(6))
    padded = np.hstack([votes, np.full((6, 1), NOT_ASKED)])
    again = posterior(padded, n_classes=5, accuracies=np.append(acc, 0.5))
    assert again == pytest.approx(post)


def test_em_uses_only_the_answers_given() -> None:
    rng = np.random.default_rng(3)
    panel = SimulatedAnnotators(np.array([0.95, 0.6, 0.8, 0.7]))
    truth = rng.integers(0, 30, size=4000)
    votes = panel.annotate(truth, n_classes=30, rng=rng)
    hide = rng.random(votes.shape) < 0.4
    hide[:, 0] = False
    votes[hide] = NOT_ASKED
    est = estimate_accuracies(votes, n_classes=30)
    assert est == pytest.approx(panel.accuracies, abs=0.03)
    out = aggregate_votes(votes, n_classes=30, rng=rng)  # majority skips unasked entries
    assert (out == truth).mean() > 0.8


def test_dynamic_overlap_asks_more_only_where_unsure() -> None:
    answers = np.array([[3, 3, 3, 3, 3], [0, 1, 2, 0, 0], [4, 4, 1, 4, 2]])
    rng = np.random.default_rng(0)
    out = ask_until_confident(
        answers, n_classes=10, initial=3, maximum=5, target=0.95,
        accuracies=np.full(5, 0.8), rng=rng,
    )  # fmt: skip
    asked = out != NOT_ASKED
    assert asked.sum(axis=1)[0] == 3  # unanimous: done after three
    assert asked.sum(axis=1)[1] >= 4  # a three-way split needs more
    assert np.all(out[asked] == answers[asked])
    with pytest.raises(InvalidInput):
        ask_until_confident(answers, n_classes=10, initial=4, maximum=3, target=0.9,
                            accuracies=np.full(5, 0.8), rng=rng)  # fmt: skip
    with pytest.raises(InvalidInput):
        aggregate_votes(np.full((1, 3), NOT_ASKED), n_classes=3, rng=rng)


@settings(max_examples=40, deadline=None)
@given(
    answers=arrays(np.int64, (8, 5), elements=st.integers(0, 5)),
    initial=st.integers(1, 3),
    extra=st.integers(0, 2),
    target=st.floats(0.3, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_dynamic_overlap_reveals_between_initial_and_maximum_true_answers(
    answers: np.ndarray, initial: int, extra: int, target: float, seed: int
) -> None:
    maximum = initial + extra
    out = ask_until_confident(
        answers, n_classes=6, initial=initial, maximum=maximum, target=target,
        accuracies=np.full(5, 0.75), rng=np.random.default_rng(seed),
    )  # fmt: skip
    counts = (out != NOT_ASKED).sum(axis=1)
    assert np.all((counts >= initial) & (counts <= maximum))
    asked = out != NOT_ASKED
    assert np.all(out[asked] == answers[asked])
    # An item that stopped early is confident; one still unsure asked everyone it could.
    post = posterior(out, n_classes=6, accuracies=np.full(5, 0.75)).max(axis=1)
    assert np.all((post >= target - 1e-9) | (counts == maximum))
