from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from loupe.errors import InvalidInput
from loupe.reputation import (
    Evidence,
    EvidenceWeights,
    Reputation,
    ReputationPolicy,
    ReputationState,
    advance,
    reputation_from_state,
    score,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
POLICY = ReputationPolicy()


def gold(success: float, days_ago: float, ref: str = "gold:item:1") -> Evidence:
    return Evidence(kind="gold", success=success, at=NOW - timedelta(days=days_ago), ref=ref)


def test_prior_only() -> None:
    r = score([], now=NOW, policy=POLICY)
    assert (r.alpha, r.beta, r.effective_n, r.contributions) == (2.0, 1.0, 0.0, ())
    assert r.mean == pytest.approx(2 / 3)
    assert r.lower == pytest.approx(0.05**0.5)
    assert r.upper == pytest.approx(0.95**0.5)


def test_known_answer_with_decay_and_kind_weights() -> None:
    evidence = [
        gold(1.0, 0, "gold:item:1"),
        gold(0.0, 180, "gold:item:2"),  # two half-lives: a quarter
        Evidence(kind="consensus", success=1.0, weight=4.0, at=NOW, ref="consensus:item:3"),
        Evidence(kind="review_check", success=0.5, at=NOW - timedelta(days=90), ref="review:4"),
    ]
    r = score(evidence, now=NOW, policy=POLICY)
    # alpha: 2 + 1 + 4 * 0.25 + 0.5 * 0.5; beta: 1 + 0.25 + 0.5 * 0.5
    assert (r.alpha, r.beta) == pytest.approx((4.25, 1.5))
    assert r.effective_n == pytest.approx(2.75)
    assert r.mean == pytest.approx(4.25 / 5.75)
    assert r.lower == pytest.approx(beta.ppf(0.05, 4.25, 1.5))
    assert r.lower < r.mean < r.upper
    assert [c.evidence.ref for c in r.contributions] == [
        "gold:item:1",
        "gold:item:2",
        "consensus:item:3",
        "review:4",
    ]
    assert [c.decay for c in r.contributions] == pytest.approx([1.0, 0.25, 1.0, 0.5])
    assert [c.weight for c in r.contributions] == pytest.approx([1.0, 0.25, 1.0, 0.5])
    assert [c.alpha for c in r.contributions] == pytest.approx([1.0, 0.0, 1.0, 0.25])
    assert [c.beta for c in r.contributions] == pytest.approx([0.0, 0.25, 0.0, 0.25])
    # The score is its inputs: prior plus contributions.
    assert r.alpha == pytest.approx(POLICY.prior_alpha + sum(c.alpha for c in r.contributions))


def test_a_kind_weighted_zero_is_listed_but_adds_nothing() -> None:
    policy = ReputationPolicy(weights=EvidenceWeights(consensus=0.0))
    r = score([Evidence(kind="consensus", success=1.0, at=NOW, ref="c")], now=NOW, policy=policy)
    assert (r.alpha, r.effective_n, len(r.contributions)) == (2.0, 0.0, 1)


def test_future_evidence_and_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput, match="after now"):
        score([gold(1.0, -1)], now=NOW)
    with pytest.raises(InvalidInput, match="now must carry a time zone"):
        score([], now=datetime(2025, 6, 1))
    state = ReputationState(1.0, 0.0, NOW)
    with pytest.raises(InvalidInput, match="only moves forward"):
        advance(state, [], now=NOW - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="after now"):
        advance(state, gold(1.0, -1), now=NOW)
    with pytest.raises(InvalidInput, match=">= 0"):
        ReputationState(-1.0, 0.0, NOW)


def test_advance_accepts_one_or_many_and_late_evidence() -> None:
    start = ReputationState(0.0, 0.0, NOW - timedelta(days=10))
    one = advance(start, gold(1.0, 5), now=NOW)
    many = advance(start, [gold(1.0, 5)], now=NOW)
    assert one == many
    # Evidence dated before the state's as_of (arrived late) decays from its own time.
    late = advance(one, gold(0.0, 90), now=NOW)
    assert late.beta_evidence == pytest.approx(0.5)


def same_reputation(a: Reputation, b: Reputation) -> None:
    for name in ("alpha", "beta", "mean", "lower", "upper", "effective_n"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), abs=1e-9, rel=0), name


def test_state_summarises_like_score() -> None:
    evidence = [gold(1.0, 3), gold(0.0, 40), gold(0.7, 100)]
    batch = score(evidence, now=NOW)
    state = advance(ReputationState(0.0, 0.0, NOW - timedelta(days=365)), evidence, now=NOW)
    same_reputation(reputation_from_state(state), batch)
    assert reputation_from_state(state).contributions == ()


KINDS = st.sampled_from(["gold", "review_received", "review_check", "consensus"])
STEPS = st.lists(
    st.tuples(
        st.integers(0, 400 * 86_400),  # seconds since the previous evidence
        KINDS,
        st.floats(0.0, 1.0),
        st.floats(0.01, 10.0),
        st.integers(0, 3),  # advance the state after this many more seconds (x 1 day)
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps=STEPS, half_life=st.floats(1.0, 365.0), gap=st.integers(0, 1000 * 86_400))
def test_incremental_equals_batch(
    steps: list[tuple[int, str, float, float, int]], half_life: float, gap: int
) -> None:
    policy = ReputationPolicy(half_life_days=half_life)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    state = ReputationState(0.0, 0.0, t)
    history: list[Evidence] = []
    for i, (seconds, kind, success, weight, delay_days) in enumerate(steps):
        t += timedelta(seconds=seconds)
        evidence = Evidence(kind=kind, success=success, weight=weight, at=t, ref=f"e{i}")  # type: ignore[arg-type]
        history.append(evidence)
        # The state may be advanced a while after the evidence happened.
        state = advance(state, evidence, now=t + timedelta(days=delay_days), policy=policy)
        t = max(t, state.as_of)
    now = state.as_of + timedelta(seconds=gap)
    state = advance(state, [], now=now, policy=policy)
    same_reputation(
        reputation_from_state(state, policy=policy), score(history, now=now, policy=policy)
    )
