"""Span-level consensus and agreement for entity tagging.

Spans match exactly — same ``start``, ``end`` and ``label`` — the strict criterion of the
CoNLL shared tasks (Tjong Kim Sang and De Meulder, 2003). Partial overlaps earn nothing: a
boundary off by one character is a different span, which is what an export for training needs.

A canonical :class:`~loupe.label_schema.Spans` answer is a list of ``{"start", "end",
"label"}`` dicts; ``Span(**d)`` turns each into a :class:`Span`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

from loupe.aggregation.checks import check_probability
from loupe.errors import InvalidInput

__all__ = ["Span", "SpanVote", "mean_pairwise_f1", "span_consensus", "span_f1"]


class Span(NamedTuple):
    """A labelled character range ``[start, end)`` of an item's text."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class SpanVote:
    """A consensus span and how many of the item's annotators marked exactly it."""

    start: int
    end: int
    label: str
    support: int
    n_annotators: int

    @property
    def share(self) -> float:
        """``support / n_annotators``."""
        return self.support / self.n_annotators

    @property
    def span(self) -> Span:
        return Span(self.start, self.end, self.label)


def span_consensus(
    annotations: Sequence[Iterable[Span]], *, min_share: float = 0.5, allow_overlap: bool = True
) -> list[SpanVote]:
    """The spans that at least ``min_share`` of an item's annotators marked, sorted by position.

    ``annotations`` holds one span list per annotator (an empty list is an annotator who found
    nothing, and counts in the denominator). With ``allow_overlap=False`` overlapping winners
    are resolved greedily — most support first, then leftmost, then shortest — so the consensus
    is itself a valid answer for a project without overlaps. (With ``min_share > 0.5`` and
    non-overlapping annotations, no two winners can overlap anyway.)

    >>> votes = span_consensus([
    ...     [Span(0, 3, "PER"), Span(9, 14, "LOC")],
    ...     [Span(0, 3, "PER")],
    ...     [Span(0, 3, "PER"), Span(9, 14, "ORG")],
    ... ])
    >>> [(v.start, v.end, v.label, v.support) for v in votes]
    [(0, 3, 'PER', 3)]
    """
    check_probability(min_share, "min_share")
    if min_share == 0.0:
        raise InvalidInput("min_share must be > 0", details={"min_share": min_share})
    n = len(annotations)
    counts = Counter(span for spans in annotations for span in set(map(_as_span, spans)))
    kept = [
        SpanVote(span.start, span.end, span.label, support, n)
        for span, support in counts.items()
        if support / n >= min_share - 1e-12  # so that min_share=2/3 keeps 2 of 3
    ]
    if not allow_overlap:
        kept.sort(key=lambda v: (-v.support, v.start, v.end - v.start, v.label))
        chosen: list[SpanVote] = []
        for vote in kept:
            if all(vote.end <= other.start or other.end <= vote.start for other in chosen):
                chosen.append(vote)
        kept = chosen
    return sorted(kept, key=lambda v: (v.start, v.end, v.label))


def span_f1(a: Iterable[Span], b: Iterable[Span]) -> float:
    """Exact-match F1 between two annotators' spans: :math:`2|A \\cap B| / (|A| + |B|)`.

    Symmetric; 1.0 when both marked the same spans, including when both marked none.

    >>> span_f1([Span(0, 3, "PER"), Span(9, 14, "LOC")], [Span(0, 3, "PER")])
    0.6666666666666666
    """
    first, second = set(map(_as_span, a)), set(map(_as_span, b))
    if not first and not second:
        return 1.0
    return 2 * len(first & second) / (len(first) + len(second))


def mean_pairwise_f1(annotations: Sequence[Iterable[Span]]) -> float:
    """Agreement on one item: the mean :func:`span_f1` over all pairs of annotators.

    NaN with fewer than two annotators (agreement is undefined), as in
    :mod:`loupe.aggregation.agreement`.

    >>> mean_pairwise_f1([[Span(0, 3, "PER")], [Span(0, 3, "PER")], []])
    0.3333333333333333
    """
    spans = [list(a) for a in annotations]
    if len(spans) < 2:
        return float("nan")
    scores = [span_f1(a, b) for a, b in combinations(spans, 2)]
    return sum(scores) / len(scores)


def _as_span(span: Span | tuple[int, int, str]) -> Span:
    return span if isinstance(span, Span) else Span(*span)
