from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.aggregation import Span, SpanVote, mean_pairwise_f1, span_consensus, span_f1
from loupe.errors import InvalidInput

PER, LOC = "PER", "LOC"


def test_consensus_known_answer() -> None:
    annotations = [
        [Span(0, 3, PER), Span(9, 14, LOC)],
        [Span(0, 3, PER), Span(9, 14, LOC)],
        [Span(0, 3, PER), Span(9, 15, LOC)],  # boundary off by one: a different span
        [],
    ]
    assert span_consensus(annotations) == [
        SpanVote(0, 3, PER, support=3, n_annotators=4),
        SpanVote(9, 14, LOC, support=2, n_annotators=4),
    ]
    assert span_consensus(annotations, min_share=0.6) == [SpanVote(0, 3, PER, 3, 4)]
    assert span_consensus(annotations, min_share=1.0) == []
    assert span_consensus(annotations, min_share=0.25)[-1].span == Span(9, 15, LOC)
    assert span_consensus(annotations)[0].share == 0.75


def test_an_annotator_counts_each_span_once() -> None:
    assert span_consensus([[Span(0, 3, PER), Span(0, 3, PER)], []]) == [SpanVote(0, 3, PER, 1, 2)]


def test_consensus_accepts_canonical_answer_dicts_as_spans() -> None:
    answer = [{"start": 0, "end": 3, "label": PER}]
    spans = [Span(**d) for d in answer]  # type: ignore[arg-type]
    assert span_consensus([spans, [(0, 3, PER)]]) == [SpanVote(0, 3, PER, 2, 2)]  # type: ignore[list-item]


def test_overlaps_are_resolved_by_support_when_not_allowed() -> None:
    annotations = [
        [Span(0, 5, PER)],
        [Span(0, 5, PER)],
        [Span(3, 8, LOC)],
        [Span(3, 8, LOC), Span(10, 12, LOC)],
        [Span(0, 5, PER), Span(10, 12, LOC)],
    ]
    kept = span_consensus(annotations, min_share=0.4)
    assert [v.span for v in kept] == [Span(0, 5, PER), Span(3, 8, LOC), Span(10, 12, LOC)]
    resolved = span_consensus(annotations, min_share=0.4, allow_overlap=False)
    assert [v.span for v in resolved] == [Span(0, 5, PER), Span(10, 12, LOC)]
    # Equal support: the leftmost, then the shortest, span wins.
    tied = span_consensus([[Span(2, 6, PER)], [Span(0, 4, PER)]], allow_overlap=False)
    assert [v.span for v in tied] == [Span(0, 4, PER)]


def test_f1_known_answers() -> None:
    assert span_f1([Span(0, 3, PER)], [Span(0, 3, PER), Span(5, 6, LOC)]) == pytest.approx(2 / 3)
    assert span_f1([Span(0, 3, PER)], [Span(0, 3, LOC)]) == 0.0
    assert span_f1([], []) == 1.0
    assert span_f1([], [Span(0, 1, PER)]) == 0.0
    assert mean_pairwise_f1([[Span(0, 3, PER)], [Span(0, 3, PER)], []]) == pytest.approx(1 / 3)
    assert math.isnan(mean_pairwise_f1([[Span(0, 3, PER)]]))
    assert math.isnan(mean_pairwise_f1([]))


def test_min_share_is_checked() -> None:
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(InvalidInput, match="min_share"):
            span_consensus([[]], min_share=bad)
    assert span_consensus([]) == []


SPAN = st.builds(
    lambda start, length, label: Span(start, start + length, label),
    st.integers(0, 20),
    st.integers(1, 5),
    st.sampled_from([PER, LOC]),
)
SPAN_LISTS = st.lists(SPAN, max_size=6)


@given(a=SPAN_LISTS, b=SPAN_LISTS)
def test_f1_is_symmetric_and_bounded(a: list[Span], b: list[Span]) -> None:
    assert span_f1(a, b) == span_f1(b, a)
    assert 0.0 <= span_f1(a, b) <= 1.0
    assert span_f1(a, a) == 1.0
    assert span_f1(a, list(reversed(a))) == 1.0


@given(spans=SPAN_LISTS, n=st.integers(1, 5), min_share=st.floats(0.01, 1.0))
def test_consensus_of_identical_annotations_is_that_annotation(
    spans: list[Span], n: int, min_share: float
) -> None:
    votes = span_consensus([spans] * n, min_share=min_share)
    assert [v.span for v in votes] == sorted(set(spans))
    assert all(v.support == v.n_annotators == n for v in votes)
    if n > 1:
        assert mean_pairwise_f1([spans] * n) == 1.0


@given(annotations=st.lists(SPAN_LISTS, min_size=1, max_size=5), data=st.data())
def test_consensus_ignores_annotator_order_and_never_overlaps_when_asked(
    annotations: list[list[Span]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(annotations))
    assert span_consensus(shuffled) == span_consensus(annotations)
    resolved = span_consensus(annotations, allow_overlap=False)
    for before, after in pairwise(resolved):
        assert before.end <= after.start
