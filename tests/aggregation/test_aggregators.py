"""Properties every aggregator in the registry must have, checked with hypothesis."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loupe.aggregation import AGGREGATORS, Aggregator, MajorityVote
from loupe.errors import InvalidInput

from .synthetic import accuracy, make_crowd

METHODS = sorted(AGGREGATORS)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Row = tuple[int, int, int]
rows_strategy = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 2)), min_size=1, max_size=30
)


def fit(method: str, rows: list[Row], **kwargs: object) -> Aggregator:
    items, workers, labels = zip(*rows, strict=True) if rows else ((), (), ())
    return AGGREGATORS[method](random_state=0).fit(
        list(items), list(workers), list(labels), **kwargs
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
@FAST
@given(rows=rows_strategy)
def test_probabilities_sum_to_one(method: str, rows: list[Row]) -> None:
    model = fit(method, rows)
    assert model.probas_.shape == (len(model.items_), len(model.classes_))
    assert np.all(np.isfinite(model.probas_))
    assert np.all(model.probas_ >= 0)
    np.testing.assert_allclose(model.probas_.sum(axis=1), 1.0, atol=1e-9)
    assert set(model.labels_) == set(model.items_.tolist())
    assert all(0.0 <= skill <= 1.0 for skill in model.skills_.values())


@pytest.mark.parametrize("method", METHODS)
@FAST
@given(rows=rows_strategy, data=st.data())
def test_renaming_and_permuting_changes_nothing(
    method: str, rows: list[Row], data: st.DataObject
) -> None:
    item_names = data.draw(st.permutations([f"i{k}" for k in range(6)]))
    worker_names = data.draw(st.permutations([f"w{k}" for k in range(5)]))
    label_names = data.draw(st.permutations(["x", "y", "z"]))
    order = data.draw(st.permutations(range(len(rows))))
    renamed = [(item_names[i], worker_names[w], label_names[k]) for i, w, k in rows]
    renamed = [renamed[position] for position in order]

    base = fit(method, rows)
    other = AGGREGATORS[method](random_state=0).fit(
        *(list(column) for column in zip(*renamed, strict=True))
    )

    # Equivariance up to rounding: renaming reorders every floating-point sum, so posteriors and
    # skills may differ in the last bits, never in a decision (Dawid-Skene's fallback to the
    # un-smoothed estimator ignores what EM does not resolve). ``labels_`` is not compared: an
    # exact tie between posteriors is broken at random, by draws taken in class order.
    rows_of = {item: row for row, item in enumerate(other.items_.tolist())}
    cols_of = {label: col for col, label in enumerate(other.classes_.tolist())}
    item_order = [rows_of[item_names[i]] for i in base.items_.tolist()]
    class_order = [cols_of[label_names[k]] for k in base.classes_.tolist()]
    np.testing.assert_allclose(
        other.probas_[np.ix_(item_order, class_order)], base.probas_, atol=1e-4
    )
    for worker, skill in base.skills_.items():
        assert other.skills_[worker_names[worker]] == pytest.approx(skill, abs=1e-4)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_perfect_worker_never_lowers_accuracy(method: str, seed: int) -> None:
    crowd = make_crowd(seed, n_items=30, n_workers=6, per_item=3)
    before = AGGREGATORS[method]().fit(crowd.items, crowd.workers, crowd.labels)
    items = crowd.items + list(crowd.truth)
    workers = crowd.workers + ["oracle"] * len(crowd.truth)
    labels = crowd.labels + list(crowd.truth.values())
    after = AGGREGATORS[method]().fit(items, workers, labels)
    assert accuracy(after.labels_, crowd.truth) >= accuracy(before.labels_, crowd.truth)


@pytest.mark.parametrize("method", METHODS)
def test_recovers_truth_on_a_good_crowd(method: str) -> None:
    crowd = make_crowd(7, n_items=60, n_workers=10, per_item=5, accuracy=(0.7, 0.95))
    model = AGGREGATORS[method]().fit(crowd.items, crowd.workers, crowd.labels)
    assert accuracy(model.labels_, crowd.truth) >= 0.9


@pytest.mark.parametrize("method", METHODS)
def test_edge_cases(method: str) -> None:
    cls = AGGREGATORS[method]
    single = cls().fit(["a", "b"], ["w1", "w2"], ["only", "only"])
    assert single.labels_ == {"a": "only", "b": "only"}
    assert single.probas_.tolist() == [[1.0], [1.0]]

    one = cls().fit(["a"], ["w"], ["x"], gold=None)
    assert one.labels_ == {"a": "x"}

    unused = cls(classes=["x", "y", "never"]).fit(
        ["a", "a", "b"], ["w1", "w2", "w1"], ["x", "x", "y"]
    )
    assert unused.classes_.tolist() == ["never", "x", "y"]
    assert unused.probas_[:, 0].max() < 0.5
    assert unused.labels_ == {"a": "x", "b": "y"}

    duplicated = cls().fit(["a", "a", "a", "b"], ["w", "w", "v", "v"], [1, 1, 1, 0])
    assert duplicated.labels_ == {"a": 1, "b": 0}


@pytest.mark.parametrize("method", METHODS)
def test_gold_is_clamped_and_may_declare_a_class(method: str) -> None:
    model = AGGREGATORS[method]().fit(
        ["a", "a", "b", "b"], ["w1", "w2", "w1", "w2"], ["x", "x", "x", "y"], gold={"a": "z"}
    )
    assert model.labels_["a"] == "z"
    assert "z" in model.classes_.tolist()
    assert model.predict_proba(["a"])[0].max() == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_random_state_makes_results_reproducible(method: str) -> None:
    crowd = make_crowd(3, n_items=20, per_item=2, n_classes=2)
    first = AGGREGATORS[method](random_state=np.random.default_rng(5))
    second = AGGREGATORS[method](random_state=np.random.default_rng(5))
    assert first.fit_predict(crowd.items, crowd.workers, crowd.labels) == second.fit_predict(
        crowd.items, crowd.workers, crowd.labels
    )


def test_predict_helpers() -> None:
    model = MajorityVote().fit(["a", "b"], ["w", "w"], ["x", "y"])
    assert model.predict().tolist() == ["x", "y"]
    assert model.predict(["b"]).tolist() == ["y"]
    assert model.predict_proba(["b"]).tolist() == [[0.0, 1.0]]
    with pytest.raises(InvalidInput, match="not in the fitted data"):
        model.predict(["zzz"])
    with pytest.raises(InvalidInput, match="not fitted"):
        MajorityVote().predict()


def test_majority_vote_ignores_uniform_duplication() -> None:
    crowd = make_crowd(1, n_items=10)
    once = MajorityVote().fit(crowd.items, crowd.workers, crowd.labels)
    twice = MajorityVote().fit(crowd.items * 2, crowd.workers * 2, crowd.labels * 2)
    np.testing.assert_allclose(once.probas_, twice.probas_)


def test_repr_lists_hyper_parameters() -> None:
    assert repr(MajorityVote(random_state=3)) == (
        "MajorityVote(ties='prior', classes=None, random_state=3)"
    )


def test_labels_may_be_any_hashable() -> None:
    labels: list[Hashable] = [(1, "a"), (1, "a"), None]
    model = MajorityVote().fit([1, 1, 2], ["w", "v", "w"], labels)
    assert model.labels_ == {1: (1, "a"), 2: None}
