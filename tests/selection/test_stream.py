from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.selection.stream import (
    prefer_high_scores,
    prefer_novel,
    prefer_uncertain,
    score_stream,
    with_audit,
)

PROBS = {"a": [0.9, 0.1], "b": [0.5, 0.5], "c": [0.7, 0.3], "d": [0.6, 0.4]}


def predict(items: Sequence[str]) -> np.ndarray:
    return np.array([PROBS[i] for i in items])


def test_score_stream_pairs_scores() -> None:
    scored = list(score_stream(iter("abcd"), predict_proba=predict, chunk_size=3))
    assert [item for _, item in scored] == list("abcd")
    assert scored[1][0] == pytest.approx(1.0)


def test_prefer_uncertain_orders_within_buffer() -> None:
    assert list(prefer_uncertain("abcd", predict_proba=predict, buffer_size=10)) == list("bdca")
    # A small buffer releases early: the order is only locally sorted, but nothing is lost.
    out = list(prefer_uncertain("abcd", predict_proba=predict, buffer_size=2))
    assert sorted(out) == list("abcd")
    assert out[0] == "b"


def test_prefer_high_scores_is_lazy() -> None:
    def endless() -> Iterator[tuple[float, int]]:
        i = 0
        while True:
            yield float(i % 7), i
            i += 1

    gen = prefer_high_scores(endless(), buffer_size=5)
    assert [next(gen) for _ in range(3)] == [4, 5, 6]
    with pytest.raises(InvalidInput):
        next(prefer_high_scores([], buffer_size=0))


def test_prefer_novel() -> None:
    feats = {"x": [1.0, 0.0], "y": [0.0, 1.0], "z": [0.9, 0.1]}
    out = prefer_novel(
        ["x", "y", "z"],
        featurize=lambda items: np.array([feats[i] for i in items]),
        labelled=np.array([[1.0, 0.0]]),
    )
    assert list(out) == ["y", "z", "x"]


def test_with_audit_marks_share_with_weights() -> None:
    marked = list(with_audit(range(4000), share=0.05, rng=np.random.default_rng(0)))
    audits = [m for m in marked if m.audit]
    assert len(audits) / 4000 == pytest.approx(0.05, abs=0.01)
    assert all(m.weight == pytest.approx(20.0) for m in audits)
    assert all(m.weight == 0.0 for m in marked if not m.audit)
    with pytest.raises(InvalidInput):
        next(with_audit([1], share=0.0, rng=np.random.default_rng(0)))
