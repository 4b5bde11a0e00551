"""The default Dawid-Skene prior is fitted to the data (empirical Bayes), not a tuned constant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from loupe.aggregation import AGGREGATORS, DEFAULT_METHOD, DawidSkene
from loupe.aggregation.dawid_skene import diagonal_dominant
from loupe.aggregation.dirichlet import ALPHA_MIN, dirichlet_kl, fit_polya, polya_log_evidence
from loupe.errors import InvalidInput

from .synthetic import accuracy, make_crowd

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hierarchical_crowd(
    alpha: np.ndarray, *, n_workers: int, answers_per_worker: int, seed: int
) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """Workers whose confusion rows are drawn from ``Dir(alpha[k])``; every item is gold."""
    rng = np.random.default_rng(seed)
    K = alpha.shape[0]
    items: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    truth: dict[str, str] = {}
    for w in range(n_workers):
        confusion = np.stack([rng.dirichlet(row) for row in alpha])
        for j in range(answers_per_worker):
            item = f"w{w}-i{j}"
            true = int(rng.integers(K))
            truth[item] = f"c{true}"
            items.append(item)
            workers.append(f"w{w}")
            labels.append(f"c{int(rng.choice(K, p=confusion[true]))}")
    return items, workers, labels, truth


# --- the Dirichlet-multinomial evidence and its maximiser -------------------------------------


def test_polya_recovers_known_dirichlet() -> None:
    """Known answer: counts simulated from Dir(6, 2) rows are fitted back to within 15%."""
    rng = np.random.default_rng(7)
    truth = np.array([6.0, 2.0])
    theta = rng.dirichlet(truth, size=3000)
    counts = np.stack([rng.multinomial(10, p) for p in theta]).astype(float)[:, None, :]
    fitted = fit_polya(counts)[0]
    np.testing.assert_allclose(fitted, truth, rtol=0.15)


def test_polya_extremes() -> None:
    # Identical workers: nothing to tell them apart, the prior pools them (large strength).
    same = np.tile(np.array([[[9.0, 1.0]]]), (20, 1, 1))
    assert fit_polya(same).sum() > 100
    # Opposite, deterministic workers: the prior fades towards the un-smoothed estimator.
    opposite = np.array([[[10.0, 0.0]], [[0.0, 10.0]]] * 5)
    assert fit_polya(opposite).sum() < 0.1
    # A row without counts keeps its starting value.
    empty = np.zeros((3, 1, 2))
    np.testing.assert_array_equal(fit_polya(empty, np.array([[2.0, 3.0]])), [[2.0, 3.0]])


@FAST
@given(
    counts=st.lists(st.lists(st.floats(0.0, 20.0), min_size=3, max_size=3), min_size=2, max_size=8),
    start=st.lists(st.floats(0.05, 50.0), min_size=3, max_size=3),
)
def test_polya_sweeps_never_lower_the_evidence(
    counts: list[list[float]], start: list[float]
) -> None:
    data = np.asarray(counts)[:, None, :]
    alpha = np.asarray(start)[None, :]
    before = polya_log_evidence(data, alpha).sum()
    previous = before
    for _ in range(5):
        alpha = fit_polya(data, alpha, max_iter=1)
        now = polya_log_evidence(data, alpha).sum()
        assert now >= previous - 1e-7 * max(1.0, abs(previous))
        previous = now
    assert np.all(alpha >= ALPHA_MIN)


def test_dirichlet_kl_matches_numerical_integration() -> None:
    a, b = np.array([3.0, 2.0]), np.array([1.5, 4.0])
    p, q = stats.beta(*a), stats.beta(*b)
    numeric, _ = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), 0, 1)
    assert dirichlet_kl(a, b) == pytest.approx(numeric, rel=1e-6)
    assert dirichlet_kl(a, a) == pytest.approx(0.0, abs=1e-12)


# --- the default aggregator -------------------------------------------------------------------


def test_default_is_empirical_bayes_dawid_skene() -> None:
    """Regression: the default used fixed pseudo-counts 2/1/1 chosen on the developer data."""
    model = AGGREGATORS[DEFAULT_METHOD]()
    assert isinstance(model, DawidSkene)
    assert model.prior == "empirical"
    crowd = make_crowd(3)
    model.fit(crowd.items, crowd.workers, crowd.labels)
    assert model.prior_used_ == "empirical"
    assert not np.allclose(model.dirichlet_, [[2, 1, 1], [1, 2, 1], [1, 1, 2]])


def test_fitted_prior_recovers_the_population_with_gold() -> None:
    """Known answer: with every item gold, the fitted prior is the crowd's own Dirichlet."""
    truth = np.array([[8.0, 2.0], [1.0, 4.0]])
    items, workers, labels, gold = hierarchical_crowd(
        truth, n_workers=400, answers_per_worker=30, seed=5
    )
    model = DawidSkene(classes=["c0", "c1"]).fit(items, workers, labels, gold=gold)
    np.testing.assert_allclose(model.dirichlet_, truth, rtol=0.25)
    np.testing.assert_allclose(model.confusions_.sum(axis=2), 1.0)


def test_tiny_symmetric_data_falls_back_to_the_unsmoothed_estimator() -> None:
    """Hand-made: w1, w2 agree, w3 disagrees. Pooled, the two classes are not identified (the
    evidence prefers "answers are noise"), so the rule falls back to crowd-kit's estimator."""
    items, workers, labels = list("aaabbb"), ["w1", "w2", "w3"] * 2, list("xxyyyx")
    model = DawidSkene().fit(items, workers, labels)
    assert model.prior_used_ == "none"
    assert model.labels_ == {"a": "x", "b": "y"}
    np.testing.assert_array_equal(model.dirichlet_, np.zeros((2, 2)))
    reference = DawidSkene(prior="none").fit(items, workers, labels)
    np.testing.assert_allclose(model.probas_, reference.probas_)


def test_diagonal_dominance() -> None:
    assert diagonal_dominant(np.array([[3.0, 1.0], [1.0, 2.0]]))
    assert not diagonal_dominant(np.array([[5.0, 5.0], [1.0, 2.0]]))
    assert not diagonal_dominant(np.array([[1.0, 3.0], [1.0, 2.0]]))
    assert diagonal_dominant(np.array([[0.5]]))


def test_empirical_fit_is_deterministic_and_monotone() -> None:
    crowd = make_crowd(11)
    first = DawidSkene().fit(crowd.items, crowd.workers, crowd.labels)
    second = DawidSkene(random_state=123).fit(crowd.items, crowd.workers, crowd.labels)
    np.testing.assert_array_equal(first.probas_, second.probas_)
    np.testing.assert_array_equal(first.dirichlet_, second.dirichlet_)
    # Variational EM never lowers its evidence lower bound.
    assert np.all(np.diff(first.objective_) > -1e-9)
    assert accuracy(first.labels_, crowd.truth) >= 0.9


@FAST
@given(seed=st.integers(0, 10_000), data=st.data())
def test_fitted_prior_follows_class_relabelling(seed: int, data: st.DataObject) -> None:
    """Invariance: renaming classes permutes the fitted prior; renaming workers changes nothing."""
    crowd = make_crowd(seed, n_items=25, n_workers=6, per_item=3)
    names = data.draw(st.permutations(["c0", "c1", "c2"]))
    mapping = dict(zip(["c0", "c1", "c2"], names, strict=True))
    worker_names = data.draw(st.permutations([f"worker{k}" for k in range(6)]))
    rename_worker = {f"worker{k}": worker_names[k] for k in range(6)}
    base = DawidSkene().fit(crowd.items, crowd.workers, crowd.labels)
    other = DawidSkene().fit(
        crowd.items,
        [rename_worker[w] for w in crowd.workers],
        [mapping[label] for label in crowd.labels],
    )
    assert other.prior_used_ == base.prior_used_
    if base.classes_.tolist() != ["c0", "c1", "c2"]:
        return  # a class nobody used: the table has fewer columns; covered elsewhere
    order = [other.classes_.tolist().index(mapping[c]) for c in base.classes_.tolist()]
    np.testing.assert_allclose(other.probas_[:, order], base.probas_, atol=1e-4)

    # Compare prior means: a strength the evidence cannot pin down (flat towards infinity)
    # wanders with floating-point summation order, without changing the fit.
    def means(alpha: np.ndarray) -> np.ndarray:
        return np.asarray(alpha / alpha.sum(axis=1, keepdims=True))

    if base.prior_used_ == "none":
        assert not other.dirichlet_.any() and not base.dirichlet_.any()
        return
    np.testing.assert_allclose(
        means(other.dirichlet_[np.ix_(order, order)]), means(base.dirichlet_), atol=1e-3
    )


def test_prior_options_are_validated() -> None:
    with pytest.raises(InvalidInput, match="prior must be one of"):
        DawidSkene(prior="tuned").fit(["a"], ["w"], ["x"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="prior_correct applies to prior='fixed'"):
        DawidSkene(prior_correct=2.0).fit(["a"], ["w"], ["x"])
    with pytest.raises(InvalidInput, match="prior_class"):
        DawidSkene(prior_class=-1.0).fit(["a"], ["w"], ["x"])


def test_fixed_mode_keeps_the_previous_default() -> None:
    crowd = make_crowd(4)
    model = DawidSkene(prior="fixed").fit(crowd.items, crowd.workers, crowd.labels)
    np.testing.assert_array_equal(model.dirichlet_, [[2, 1, 1], [1, 2, 1], [1, 1, 2]])
    assert model.prior_used_ == "fixed"
