from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

from loupe.aggregation import BradleyTerry
from loupe.errors import InvalidInput


def simulate(
    log_strengths: list[float], n: int, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """``n`` games between random pairs, decided by the Bradley-Terry model."""
    winners, losers = [], []
    for _ in range(n):
        i, j = rng.choice(len(log_strengths), size=2, replace=False)
        if rng.random() < expit(log_strengths[i] - log_strengths[j]):
            winners.append(int(i)), losers.append(int(j))
        else:
            winners.append(int(j)), losers.append(int(i))
    return winners, losers


def test_recovers_known_strengths() -> None:
    truth = np.array([-1.5, -0.8, 0.0, 0.4, 1.1, 2.0])
    winners, losers = simulate(list(truth), 4000, np.random.default_rng(7))
    bt = BradleyTerry(prior_strength=0.1).fit(winners, losers)
    assert bt.converged_
    assert bt.ranking_ == [5, 4, 3, 2, 1, 0]
    np.testing.assert_allclose(bt.log_strengths_, truth - truth.mean(), atol=0.15)
    assert bt.log_strengths_.mean() == pytest.approx(0.0, abs=1e-12)


def neg_log_posterior(
    theta: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray, c: float
) -> tuple[float, np.ndarray]:
    """-log p(data, theta) and its gradient: Bradley-Terry likelihood plus c virtual ties
    against a reference at theta = 0."""
    pair = np.stack([theta[i], theta[j]], axis=1)
    data = np.sum(y * theta[i] + (1 - y) * theta[j] - logsumexp(pair, axis=1))
    prior = np.sum(c * (0.5 * theta - np.logaddexp(theta, 0.0)))
    win = expit(theta[i] - theta[j])
    grad = np.bincount(i, weights=y - win, minlength=len(theta)) - np.bincount(
        j, weights=y - win, minlength=len(theta)
    )
    grad += c * (0.5 - expit(theta))
    return float(-(data + prior)), -grad


def test_matches_a_direct_maximum_a_posteriori_fit() -> None:
    # Player 3 never loses and player 0 never wins: plain maximum likelihood would diverge.
    winners = [1, 2, 2, 3, 3, 1, 2, 3, 1]
    losers = [0, 1, 0, 2, 1, 2, 0, 0, 0]
    ties = [False] * 8 + [True]
    bt = BradleyTerry(prior_strength=1.0, tol=1e-13).fit(winners, losers, ties=ties)
    y = np.where(ties, 0.5, 1.0)
    result = minimize(
        neg_log_posterior,
        np.zeros(4),
        args=(np.array(winners), np.array(losers), y, 1.0),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-10},
    )
    assert np.max(np.abs(result.jac)) < 1e-8
    np.testing.assert_allclose(bt.log_strengths_, result.x - result.x.mean(), atol=1e-6)
    assert bt.probability(3, 0) == pytest.approx(expit(result.x[3] - result.x[0]), abs=1e-6)


def test_undefeated_and_disconnected_players_stay_finite() -> None:
    # Two groups that never meet; "a" and "x" are undefeated.
    bt = BradleyTerry().fit(["a", "a", "x"], ["b", "b", "y"])
    assert np.all(np.isfinite(bt.log_strengths_))
    assert bt.scores_["a"] == pytest.approx(bt.scores_["x"], abs=0.5)
    assert bt.scores_["a"] > bt.scores_["x"]  # two wins are more evidence than one
    assert bt.probability("a", "b") == pytest.approx(1 - bt.probability("b", "a"))


def test_ties_and_weights() -> None:
    tied = BradleyTerry().fit(["a", "b"], ["b", "a"])
    both_tie = BradleyTerry().fit(["a"], ["b"], ties=[True])
    assert tied.scores_ == pytest.approx({"a": 0.0, "b": 0.0})
    assert both_tie.scores_ == pytest.approx({"a": 0.0, "b": 0.0})
    weighted = BradleyTerry().fit(["a", "b"], ["b", "a"], weights=[3.0, 1.0])
    repeated = BradleyTerry().fit(["a", "a", "a", "b"], ["b", "b", "b", "a"])
    np.testing.assert_allclose(weighted.log_strengths_, repeated.log_strengths_, atol=1e-8)
    assert weighted.wins_.tolist() == [3.0, 1.0]
    assert weighted.n_comparisons_.tolist() == [4.0, 4.0]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"winners": [], "losers": []}, "at least one comparison"),
        ({"winners": ["a"], "losers": ["b", "c"]}, "same length"),
        (
            {"winners": ["a", "b"], "losers": ["b", "b"]},
            "comparison 1: a player cannot be compared with itself",
        ),
        ({"winners": ["a"], "losers": ["b"], "ties": [True, False]}, "one entry per comparison"),
        ({"winners": ["a"], "losers": ["b"], "weights": [-1.0]}, "weights must be finite and >= 0"),
    ],
)
def test_bad_input(kwargs: dict[str, list[object]], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        BradleyTerry().fit(**kwargs)  # type: ignore[arg-type]


def test_unknown_player() -> None:
    bt = BradleyTerry().fit(["a"], ["b"])
    with pytest.raises(InvalidInput, match="'c' is not a player"):
        bt.probability("a", "c")
    with pytest.raises(InvalidInput, match="prior_strength must be > 0"):
        BradleyTerry(prior_strength=0.0).fit(["a"], ["b"])


GAMES = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans()).filter(lambda g: g[0] != g[1]),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(games=GAMES)
def test_relabelling_and_reordering_players_changes_nothing(
    games: list[tuple[int, int, bool]],
) -> None:
    winners, losers, ties = (list(column) for column in zip(*games, strict=True))
    bt = BradleyTerry().fit(winners, losers, ties=ties)
    renamed = BradleyTerry().fit(
        [f"p{9 - w}" for w in reversed(winners)],
        [f"p{9 - v}" for v in reversed(losers)],
        ties=list(reversed(ties)),
    )
    for player, score in bt.scores_.items():
        assert renamed.scores_[f"p{9 - player}"] == pytest.approx(score, abs=1e-7)
    assert np.all(np.isfinite(bt.log_strengths_))
