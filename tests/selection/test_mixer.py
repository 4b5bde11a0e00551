from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.selection.mixer import AUDIT, allocate, select_batch
from loupe.selection.strategies import Pool


def _pool(n: int, seed: int = 0) -> Pool:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(4), size=n)
    features = rng.normal(size=(n, 5))
    return Pool(probabilities=p, features=features, labelled_features=features[:3])


def test_allocate_largest_remainder() -> None:
    assert allocate(10, {"margin": 0.7, "novelty": 0.3}) == {"margin": 7, "novelty": 3}
    assert allocate(3, {"a": 1.0, "b": 1.0}) == {"a": 2, "b": 1}
    assert sum(allocate(7, {"a": 0.2, "b": 0.5, "c": 0.3}).values()) == 7
    with pytest.raises(InvalidInput):
        allocate(3, {"a": 0.0})
    with pytest.raises(InvalidInput):
        allocate(3, {})


def test_margin_takes_the_most_uncertain() -> None:
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.99, 0.01]])
    s = select_batch(Pool(p), mix={"margin": 1.0}, batch_size=2, rng=np.random.default_rng(0))
    assert s.indices.tolist() == [0, 2]
    assert s.reasons == ("margin", "margin")
    assert s.audit_weights.tolist() == [0.0, 0.0]


def test_mix_records_reasons_and_never_repeats() -> None:
    pool = _pool(60)
    s = select_batch(
        pool,
        mix={"margin": 0.5, "novelty": 0.5},
        batch_size=20,
        audit_share=0.1,
        rng=np.random.default_rng(3),
    )
    assert s.size == 20
    assert np.unique(s.indices).size == 20
    assert set(s.reasons) <= {"margin", "novelty", AUDIT}
    audit = s.is_audit
    assert np.all(s.audit_weights[audit] == pytest.approx(60 / audit.sum()))
    assert np.all(s.audit_weights[~audit] == 0.0)


def test_diversity_keeps_batch_size() -> None:
    pool = _pool(80)
    s = select_batch(
        pool, mix={"margin": 1.0}, batch_size=10, diversity=3.0, rng=np.random.default_rng(0)
    )
    assert s.size == 10
    assert np.unique(s.indices).size == 10


def test_bad_options() -> None:
    pool = _pool(10)
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInput, match="unknown strategies"):
        select_batch(pool, mix={"nope": 1.0}, batch_size=2, rng=rng)
    with pytest.raises(InvalidInput):
        select_batch(pool, mix={"margin": 1.0}, batch_size=2, audit_share=1.5, rng=rng)
    with pytest.raises(InvalidInput):
        select_batch(pool, mix={"margin": 1.0}, batch_size=2, diversity=0.5, rng=rng)


def test_disagreement_only_picks_labelled_then_fills() -> None:
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]])
    pool = Pool(p, human_labels=np.array([0, 0, -1, -1]))
    s = select_batch(pool, mix={"disagreement": 1.0}, batch_size=3, rng=np.random.default_rng(0))
    assert s.indices[:2].tolist() == [1, 0]
    assert s.reasons == ("disagreement", "disagreement", "random")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 80),
    batch=st.integers(0, 40),
    budget=st.integers(0, 50),
    share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_never_exceeds_budget_and_is_deterministic(
    n: int, batch: int, budget: int, share: float, seed: int
) -> None:
    pool = _pool(n, seed)
    mix = {"margin": 0.6, "entropy": 0.3, "random": 0.1}

    def run() -> tuple[list[int], tuple[str, ...]]:
        s = select_batch(
            pool,
            mix=mix,
            batch_size=batch,
            budget_left=budget,
            audit_share=share,
            rng=np.random.default_rng(seed),
        )
        return s.indices.tolist(), s.reasons

    first = run()
    assert first == run()
    assert len(first[0]) == min(batch, budget, n)
    assert len(set(first[0])) == len(first[0])


def test_audit_share_within_tolerance() -> None:
    pool = _pool(500)
    rng = np.random.default_rng(11)
    audits = 0
    total = 0
    for _ in range(200):
        s = select_batch(pool, mix={"margin": 1.0}, batch_size=25, audit_share=0.1, rng=rng)
        audits += int(s.is_audit.sum())
        total += s.size
    assert audits / total == pytest.approx(0.1, abs=0.015)


def test_density_weight_prefers_typical_items_of_equal_uncertainty() -> None:
    p = np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 0.1], [0.55, 0.45]])
    density = np.array([0.1, 0.9, 0.9, 0.9])
    rng = np.random.default_rng(0)
    plain = select_batch(Pool(p, density=density), mix={"margin": 1.0}, batch_size=2, rng=rng)
    assert sorted(plain.indices.tolist()) == [0, 1]
    weighted = select_batch(
        Pool(p, density=density), mix={"margin": 1.0}, batch_size=2, rng=rng, density_weight=1.0
    )
    # Item 0 is as uncertain as item 1 but atypical: the near-tie at 0.55 / 0.45 goes first.
    assert weighted.indices.tolist() == [1, 3]
    with pytest.raises(InvalidInput, match="needs the pool's density"):
        select_batch(Pool(p), mix={"margin": 1.0}, batch_size=2, rng=rng, density_weight=1.0)
    with pytest.raises(InvalidInput, match="density_weight"):
        select_batch(Pool(p, density=density), mix={"margin": 1.0}, batch_size=2, rng=rng,
                     density_weight=-1.0)  # fmt: skip
    with pytest.raises(InvalidInput, match="density must have one entry"):
        Pool(p, density=density[:2])
