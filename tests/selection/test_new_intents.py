from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.selection.new_intents import IntentCluster, find_new_intents

FLIGHTS = ["book a flight to rome", "book a flight to paris", "book me a flight to oslo"]
BALANCE = ["what is my bank balance", "check my bank balance", "show my bank balance now"]
KNOWN = ["set an alarm for seven", "wake me up at six", "play some jazz music"]


def test_two_unseen_intents_become_two_named_clusters() -> None:
    texts = [*FLIGHTS, *BALANCE, "set an alarm for nine"]
    clusters = find_new_intents(texts, [0.9] * 7, KNOWN, min_size=3, n_terms=2)
    assert [set(c.members) for c in clusters] == [{0, 1, 2}, {3, 4, 5}]
    assert clusters[0].terms == ("book", "flight")  # equal weights: alphabetical
    assert clusters[1].name == "balance_bank"
    assert clusters[0].size == 3 and set(clusters[0].examples) == {0, 1, 2}


def test_only_flagged_requests_are_clustered() -> None:
    texts = [*FLIGHTS, *BALANCE]
    scores = [0.9, 0.9, 0.9, 0.1, 0.2, 0.3]
    clusters = find_new_intents(texts, scores, min_score=0.5, min_size=2)
    assert [c.members for c in clusters] == [(0, 1, 2)]


def test_small_clusters_are_dropped() -> None:
    texts = [*FLIGHTS, *BALANCE[:2]]
    assert [c.members for c in find_new_intents(texts, [1.0] * 5, min_size=3)] == [(0, 1, 2)]
    assert find_new_intents(texts[:2], [1.0] * 2, min_size=3) == []


def test_examples_are_the_most_central_first() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.3], [0.0, 1.0]])
    texts = ["a", "b", "c", "d"]
    [cluster] = find_new_intents(
        texts, [1.0] * 4, vectors=vectors, min_size=3, distance_threshold=0.3, max_examples=2
    )
    assert cluster.members == (0, 1, 2)
    assert cluster.examples == (1, 0)


def test_precomputed_vectors_replace_the_text_features() -> None:
    # Texts that share no words, vectors that say they mean the same.
    texts = ["alpha", "beta", "gamma", "delta"]
    vectors = np.array([[1.0, 0.0], [1.0, 0.05], [0.98, 0.0], [0.0, 1.0]])
    clusters = find_new_intents(texts, [1.0] * 4, vectors=vectors, min_size=2)
    assert [c.members for c in clusters] == [(0, 1, 2)]


def test_inputs_are_checked() -> None:
    with pytest.raises(InvalidInput):
        find_new_intents(["a", "b"], [1.0])
    with pytest.raises(InvalidInput):
        find_new_intents(["a"], [1.0], vectors=np.ones((2, 2)))
    with pytest.raises(InvalidInput):
        find_new_intents(["a"], [1.0], min_size=0)


WORDS = ["book", "flight", "rome", "balance", "bank", "my", "alarm", "pizza", "order", "a"]
requests = st.lists(
    st.tuples(
        st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join),
        st.sampled_from([0.1, 0.6, 0.9]),
    ),
    min_size=0,
    max_size=14,
)


@settings(max_examples=100, deadline=None)
@given(requests, st.randoms(use_true_random=False))
def test_clusters_are_disjoint_flagged_and_independent_of_order(
    rows: list[tuple[str, float]], rnd: random.Random
) -> None:
    texts = [text for text, _ in rows]
    scores = [score for _, score in rows]
    clusters = find_new_intents(texts, scores, ["set an alarm"], min_size=2)
    members = [m for c in clusters for m in c.members]
    assert len(members) == len(set(members))  # disjoint
    assert all(scores[m] >= 0.5 for m in members)  # only flagged requests
    assert all(c.size >= 2 and set(c.examples) <= set(c.members) for c in clusters)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = find_new_intents(
        [texts[i] for i in order], [scores[i] for i in order], ["set an alarm"], min_size=2
    )

    def described(
        found: list[IntentCluster], names: list[str], marks: list[float]
    ) -> list[tuple[str, list[tuple[str, float]], list[str]]]:
        return sorted(
            (
                c.name,
                sorted((names[m], marks[m]) for m in c.members),
                [names[m] for m in c.examples],
            )
            for c in found
        )

    assert described(shuffled, [texts[i] for i in order], [scores[i] for i in order]) == described(
        clusters, texts, scores
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([*FLIGHTS, *BALANCE, *KNOWN, "", "hi"]), min_size=1, max_size=30))
def test_sparse_tfidf_rows_cluster_as_their_dense_copy(texts: list[str]) -> None:
    """The TF-IDF rows stay sparse (a dense copy cost more than the clustering); the
    clusters are those of the same rows made dense."""
    from loupe.learning.text import TfidfFeaturizer

    try:
        rows = TfidfFeaturizer().fit([*texts, *KNOWN]).transform(texts).toarray()
    except ValueError:  # no terms at all: nothing to compare
        return
    sparse = find_new_intents(texts, [1.0] * len(texts), KNOWN, min_size=2)
    dense = find_new_intents(texts, [1.0] * len(texts), KNOWN, vectors=rows, min_size=2)
    assert sparse == dense
