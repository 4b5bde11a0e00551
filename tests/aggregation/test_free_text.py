from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from loupe.aggregation import (
    RankedText,
    TextCandidate,
    choose_free_text,
    normalize_text,
    rank_free_text,
    wilson_lower_bound,
)
from loupe.errors import InvalidInput


def test_wilson_lower_bound_known_values() -> None:
    # Values from the closed form; 1.96 is the usual rounding of the 95% quantile.
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(1, 0) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(20, 10) == pytest.approx(0.4878, abs=1e-4)
    assert wilson_lower_bound(0, 5) == 0.0
    # All accepts: the bound is n / (n + z^2).
    z = float(norm.ppf(0.95))
    assert wilson_lower_bound(10, 0, z=z) == pytest.approx(10 / (10 + z * z), rel=1e-12)


def test_few_reviews_do_not_overtake_many() -> None:
    # The Beta(1 + a, 1 + r) posterior mean would prefer the single accept (2/3 > 21/32).
    winner = choose_free_text([("One accept", 1, 0), ("Well reviewed", 20, 10)])
    assert winner is not None
    assert winner.text == "Well reviewed"


def test_equal_answers_pool_their_votes() -> None:
    candidates = [
        TextCandidate("Guten Morgen", 1, 1),
        TextCandidate("Hallo", 2, 0),
        TextCandidate(" guten   MORGEN ", 2, 0),
        TextCandidate("Guten morgen", 1, 0),
    ]
    ranked = rank_free_text(candidates)
    assert ranked[0] == RankedText(
        text="guten   MORGEN",
        confidence=pytest.approx(wilson_lower_bound(4, 1)),  # type: ignore[arg-type]
        n_accept=4,
        n_reject=1,
        variants=("Guten Morgen", " guten   MORGEN ", "Guten morgen"),
    )
    assert [r.text for r in ranked] == ["guten   MORGEN", "Hallo"]
    assert normalize_text("\tGuten\nMorgen ") == "guten morgen"


def test_no_net_acceptance_means_no_winner() -> None:
    assert choose_free_text([]) is None
    assert choose_free_text([("a", 1, 1), ("b", 0, 3), ("c", 0, 0)]) is None
    # The best-ranked answer is skipped when it is not accepted on balance.
    winner = choose_free_text([("debated", 30, 30), ("fresh", 1, 0)])
    assert winner is not None
    assert (winner.text, winner.accepted) == ("fresh", True)


def test_full_ties_keep_the_first_answer() -> None:
    winner = choose_free_text([("first", 2, 0), ("second", 2, 0)])
    assert winner is not None
    assert winner.text == "first"


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_counts_are_checked(bad: object) -> None:
    with pytest.raises(InvalidInput, match="n_accept must be a whole number"):
        TextCandidate("x", bad, 0)  # type: ignore[arg-type]


COUNTS = st.integers(0, 50)


@given(a=COUNTS, r=COUNTS)
def test_lower_bound_lies_below_the_observed_rate_and_grows_with_accepts(a: int, r: int) -> None:
    bound = wilson_lower_bound(a, r)
    assert 0.0 <= bound <= (a / (a + r) if a + r else 0.0) + 1e-12
    assert wilson_lower_bound(a + 1, r) > bound
    assert wilson_lower_bound(a, r + 1) <= bound


@given(candidates=st.lists(st.tuples(st.sampled_from(["x", "X ", "y", "z"]), COUNTS, COUNTS)))
def test_winner_is_accepted_and_ranks_first_among_accepted(
    candidates: list[tuple[str, int, int]],
) -> None:
    ranked = rank_free_text(candidates)
    winner = choose_free_text(candidates)
    accepted = [r for r in ranked if r.accepted]
    assert winner == (accepted[0] if accepted else None)
    assert sum(r.n_accept for r in ranked) == sum(c[1] for c in candidates)
    assert [r.confidence for r in ranked] == sorted((r.confidence for r in ranked), reverse=True)
