"""How overlapping detections become the spans the redactor replaces."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from loupe.privacy.spans import Detection, cover_overlaps, resolve_overlaps


@st.composite
def detections(draw: st.DrawFn) -> Detection:
    start = draw(st.integers(0, 60))
    length = draw(st.integers(1, 20))
    kind = draw(st.sampled_from(["PHONE", "CREDIT_CARD", "PERSON", "MAC_ADDRESS"]))
    score = draw(st.sampled_from([0.5, 0.6, 0.85, 0.9, 0.95]))
    return Detection(start, start + length, kind, score)


@given(st.lists(detections(), max_size=12))
def test_cover_overlaps_covers_every_candidate_without_overlaps(found: list[Detection]) -> None:
    spans = cover_overlaps(found)
    assert all(a.end <= b.start for a, b in pairwise(spans))
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(set(range(d.start, d.end)) <= covered for d in found)
    # Nothing is covered that no candidate held, and every type is a winner's.
    assert covered == {i for d in found for i in range(d.start, d.end)}
    assert {s.type for s in spans} <= {s.type for s in resolve_overlaps(found)}


def test_the_winner_grows_over_the_tail_of_what_it_beat() -> None:
    mac = Detection(6, 20, "MAC_ADDRESS", 0.9)
    longer = Detection(6, 25, "PHONE", 0.6)
    assert cover_overlaps([mac, longer]) == [Detection(6, 25, "MAC_ADDRESS", 0.9)]
    apart = Detection(30, 35, "PERSON", 0.85)
    assert cover_overlaps([mac, apart]) == [mac, apart]


def _resolve_naively(found: list[Detection]) -> list[Detection]:
    """The greedy rule written plainly (quadratic), as a reference."""
    kept: list[Detection] = []
    for cand in sorted(found, key=lambda d: (-d.score, -d.length, d.start, d.type)):
        if not any(cand.overlaps(k) for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda d: d.start)


@given(st.lists(detections(), max_size=30))
def test_resolve_overlaps_keeps_what_the_plain_greedy_rule_keeps(found: list[Detection]) -> None:
    assert resolve_overlaps(found) == _resolve_naively(found)
