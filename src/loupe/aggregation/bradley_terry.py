"""Bradley-Terry: a strength per player (a model, a prompt variant) from pairwise preferences."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from loupe.aggregation.checks import check_positive
from loupe.aggregation.table import FloatArray, IntArray, ObjectArray, encode
from loupe.errors import InvalidInput

__all__ = ["BradleyTerry"]

Column = Sequence[Hashable] | NDArray[Any]


class BradleyTerry:
    """Bradley-Terry strengths fitted by minorization-maximization, with a small symmetric prior.

    Each player :math:`i` has a strength :math:`p_i > 0` and wins against :math:`j` with
    probability :math:`p_i / (p_i + p_j)`. A tie counts as half a win each way. Hunter's MM
    update (Hunter, "MM algorithms for generalized Bradley-Terry models", *Annals of Statistics*
    32(1), 2004) increases the likelihood at every step:

    .. math::

        p_i \\leftarrow \\frac{W_i + c/2}{\\sum_j n_{ij} / (p_i + p_j) + c / (p_i + 1)},

    where :math:`W_i` are :math:`i`'s (weighted) wins, :math:`n_{ij}` the comparisons between
    :math:`i` and :math:`j`, and :math:`c` = ``prior_strength``: every player is given ``c``
    virtual comparisons, tied, against a fixed reference of strength 1. That prior keeps an
    undefeated (or winless) player, and players in separate groups that never met, finite: with
    plain maximum likelihood their strengths run off to infinity. It also shrinks players with
    few comparisons towards the middle, which is what a leaderboard wants.

    Learned state: ``players_`` (sorted), ``log_strengths_`` (:math:`\\log p_i`, centred to mean
    0), ``scores_`` (player → log-strength), ``wins_`` and ``n_comparisons_`` (weighted, per
    player), ``n_iter_`` and ``converged_``.

    From a :class:`~loupe.label_schema.Pairwise` answer on an item comparing players ``x`` (in
    ``a_field``) and ``y``: ``"a"`` is ``(winner=x, loser=y)``, ``"b"`` is ``(y, x)``, and
    ``"tie"`` is either order with ``ties=True``.

    >>> bt = BradleyTerry().fit(
    ...     winners=["m1", "m1", "m2", "m1", "m3"],
    ...     losers=["m2", "m3", "m3", "m2", "m2"],
    ...     ties=[False, False, False, False, True],
    ... )
    >>> bt.ranking_
    ['m1', 'm2', 'm3']
    >>> {player: round(score, 3) for player, score in bt.scores_.items()}
    {'m1': 1.504, 'm2': -0.409, 'm3': -1.095}
    >>> round(bt.probability("m1", "m3"), 3)
    0.931
    """

    players_: ObjectArray
    log_strengths_: FloatArray
    scores_: dict[Hashable, float]
    ranking_: list[Hashable]
    wins_: FloatArray
    n_comparisons_: FloatArray
    n_iter_: int
    converged_: bool

    def __init__(
        self, *, prior_strength: float = 1.0, max_iter: int = 10_000, tol: float = 1e-10
    ) -> None:
        self.prior_strength = prior_strength
        self.max_iter = max_iter
        self.tol = tol

    def fit(
        self,
        winners: Column,
        losers: Column,
        *,
        ties: Sequence[bool] | NDArray[Any] | None = None,
        weights: Sequence[float] | NDArray[Any] | None = None,
    ) -> Self:
        """Fit strengths from comparisons ``winners[k]`` beat ``losers[k]`` (or tied with them).

        ``ties[k]`` marks comparison ``k`` as a tie; ``weights[k]`` (>= 0, default 1) scales it,
        e.g. by the rater's reputation.
        """
        check_positive(self.prior_strength, "prior_strength")
        check_positive(self.tol, "tol")
        if len(winners) != len(losers):
            raise InvalidInput(
                f"winners and losers must have the same length, got {len(winners)} and "
                f"{len(losers)}",
                details={"winners": len(winners), "losers": len(losers)},
            )
        if len(winners) == 0:
            raise InvalidInput("BradleyTerry needs at least one comparison")
        n = len(winners)
        tied = _column(ties, n, "ties", default=0.0).astype(bool)
        weight = _column(weights, n, "weights", default=1.0)
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise InvalidInput("weights must be finite and >= 0", details={"field": "weights"})
        players, codes = encode([*list(winners), *list(losers)], name="players")
        win, lose = codes[:n], codes[n:]
        if np.any(win == lose):
            k = int(np.flatnonzero(win == lose)[0])
            raise InvalidInput(
                f"comparison {k}: a player cannot be compared with itself ({players[win[k]]!r})",
                details={"index": k},
            )
        n_players = len(players)
        share = np.where(tied, 0.5, 1.0) * weight
        wins = _weighted_counts(win, share, n_players) + _weighted_counts(
            lose, weight - share, n_players
        )
        # Collapse repeated pairs: the update only needs n_ij per unordered pair.
        low, high = np.minimum(win, lose), np.maximum(win, lose)
        pair_codes, pair_index = np.unique(low * n_players + high, return_inverse=True)
        pair_n = _weighted_counts(pair_index, weight, len(pair_codes))
        first = np.asarray(pair_codes // n_players, dtype=np.intp)
        second = np.asarray(pair_codes % n_players, dtype=np.intp)
        log_p, n_iter, converged = _mm(
            wins, first, second, pair_n, n_players, self.prior_strength, self.max_iter, self.tol
        )
        self.players_ = players
        self.log_strengths_ = np.asarray(log_p - log_p.mean(), dtype=np.float64)
        self.scores_ = dict(zip(players.tolist(), self.log_strengths_.tolist(), strict=True))
        order = np.lexsort((np.arange(n_players), -self.log_strengths_))
        self.ranking_ = [players[i] for i in order]
        self.wins_ = wins
        self.n_comparisons_ = _weighted_counts(
            np.concatenate([first, second]), np.tile(pair_n, 2), n_players
        )
        self.n_iter_, self.converged_ = n_iter, converged
        return self

    def probability(self, player: Hashable, opponent: Hashable) -> float:
        """The fitted probability that ``player`` beats ``opponent`` (ties split evenly)."""
        try:
            diff = self.scores_[player] - self.scores_[opponent]
        except KeyError as missing:
            raise InvalidInput(
                f"{missing.args[0]!r} is not a player of this fit; players: "
                f"{', '.join(map(repr, self.players_.tolist()[:20]))}",
                details={"player": repr(missing.args[0])},
            ) from None
        return float(1.0 / (1.0 + np.exp(-diff)))


def _column(
    values: Sequence[Any] | NDArray[Any] | None, n: int, name: str, *, default: float
) -> FloatArray:
    if values is None:
        return np.full(n, default)
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise InvalidInput(
            f"{name} must have one entry per comparison ({n}), got shape {array.shape}",
            details={"field": name},
        )
    return array


def _weighted_counts(codes: IntArray, weights: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(codes, weights=weights, minlength=size), dtype=np.float64)


def _mm(
    wins: FloatArray,
    first: IntArray,
    second: IntArray,
    pair_n: FloatArray,
    n_players: int,
    prior: float,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, int, bool]:
    """Hunter's MM iteration, each step followed by the best common shift of all strengths.

    Returns log-strengths on the scale where the reference player is 0.
    """
    numerator = wins + prior / 2.0
    log_p = np.zeros(n_players)
    for iteration in range(1, max_iter + 1):
        p = np.exp(log_p)
        rate = pair_n / (p[first] + p[second])
        denominator = (
            _weighted_counts(first, rate, n_players)
            + _weighted_counts(second, rate, n_players)
            + prior / (p + 1.0)
        )
        updated = np.log(numerator) - np.log(denominator)
        updated += _best_shift(updated)
        change = float(np.max(np.abs(updated - log_p)))
        log_p = updated
        if change < tol:
            return log_p, iteration, True
    return log_p, max_iter, False


def _best_shift(log_p: FloatArray) -> float:
    """The shift ``s`` maximising the posterior of ``log_p + s``.

    The likelihood only sees differences, so only the prior depends on ``s``; it peaks where the
    players' mean win probability against the reference is one half. MM alone moves this common
    level by about ``prior / comparisons`` per step, which with a weak prior takes thousands of
    steps; solving for it exactly keeps every step an ascent step and the iteration fast.
    """
    shift = 0.0
    for _ in range(100):
        win = 1.0 / (1.0 + np.exp(-(log_p + shift)))
        gradient = float(np.sum(0.5 - win))
        curvature = float(np.sum(win * (1.0 - win)))
        step = float(np.clip(gradient / curvature, -1.0, 1.0))
        shift += step
        if abs(step) < 1e-15:
            break
    return shift
