from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.simulation.noisy_oracle import NoisyOracle

K = 6


def _batches(n_batches: int, size: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    items = rng.permutation(n_batches * size).reshape(n_batches, size)
    return [(b, rng.integers(0, K, size=size)) for b in items]


def _uniform(n: int) -> np.ndarray:
    return np.full((n, K), 1 / K)


def test_perfect_panel_returns_every_item_so_far_with_its_true_label() -> None:
    oracle = NoisyOracle(n_classes=K, annotator_accuracy=(1.0, 1.0), rng=np.random.default_rng(0))
    seen_items: list[int] = []
    seen_truth: list[int] = []
    for items, truth in _batches(3, 10, seed=1):
        asked, labels = oracle.answer(items, truth=truth, prior=_uniform(items.size))
        seen_items += items.tolist()
        seen_truth += truth.tolist()
        assert asked.tolist() == seen_items
        assert labels.tolist() == seen_truth
    assert oracle.annotations_ == 3 * 30
    assert not oracle.dynamic_overlap


def test_dynamic_overlap_pays_between_initial_and_maximum_and_labels_better() -> None:
    def run(max_annotators: int) -> tuple[float, int]:
        oracle = NoisyOracle(
            n_classes=K,
            annotators=3,
            max_annotators=max_annotators,
            annotator_accuracy=(0.55, 0.7),
            rng=np.random.default_rng(3),
        )
        right = 0.0
        for items, truth in _batches(8, 50, seed=4):
            asked, labels = oracle.answer(items, truth=truth, prior=_uniform(items.size))
        truth_all = np.concatenate([t for _, t in _batches(8, 50, seed=4)])
        right = float(np.mean(labels == truth_all))
        assert asked.size == 400
        return right, oracle.annotations_

    fixed_accuracy, fixed_paid = run(0)
    dynamic_accuracy, dynamic_paid = run(5)
    assert fixed_paid == 3 * 400
    assert 3 * 400 < dynamic_paid <= 5 * 400
    assert dynamic_accuracy > fixed_accuracy


def test_same_rng_seed_same_labels() -> None:
    def labels(seed: int) -> list[int]:
        oracle = NoisyOracle(
            n_classes=K,
            max_annotators=5,
            annotator_accuracy=(0.5, 0.8),
            rng=np.random.default_rng(seed),
        )
        for items, truth in _batches(3, 20, seed=9):
            _, out = oracle.answer(items, truth=truth, prior=_uniform(items.size))
        return [*out.tolist(), oracle.annotations_]

    assert labels(11) == labels(11)
    assert labels(11) != labels(12)


def test_a_model_prior_that_knows_the_truth_lifts_label_accuracy_only_when_used() -> None:
    ((items, truth),) = _batches(1, 300, seed=5)
    prior = np.full((items.size, K), 0.1 / (K - 1))
    prior[np.arange(items.size), truth] = 0.9

    def accuracy(model_prior: bool) -> float:
        oracle = NoisyOracle(
            n_classes=K,
            annotator_accuracy=(0.3, 0.5),
            model_prior=model_prior,
            rng=np.random.default_rng(2),
        )
        _, labels = oracle.answer(items, truth=truth, prior=prior)
        return float(np.mean(labels == truth))

    assert accuracy(True) > accuracy(False) + 0.05


@pytest.mark.parametrize(("annotators", "max_annotators"), [(0, 0), (3, 2)])
def test_bad_panels(annotators: int, max_annotators: int) -> None:
    with pytest.raises(InvalidInput):
        NoisyOracle(
            n_classes=K,
            rng=np.random.default_rng(0),
            annotators=annotators,
            max_annotators=max_annotators,
        )
