from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.learning.shadow import ShadowEvidence, decide_shadow


@pytest.mark.parametrize(
    ("n", "challenger", "champion", "verdict"),
    [
        (19, 19, 0, "wait"),  # short of 20 items: wait, however good it looks
        (20, 20, 20, "promote"),  # as good
        (20, 20, 10, "promote"),  # better
        (50, 49, 50, "promote"),  # 0.02 worse: exactly the allowance
        (50, 48, 50, "reject"),  # 0.04 worse
        (100, 97, 100, "reject"),  # 0.03 worse
        (100, 98, 100, "promote"),
    ],
)
def test_known_answers(n: int, challenger: int, champion: int, verdict: str) -> None:
    decision = decide_shadow(ShadowEvidence(n, challenger, champion))
    assert decision.verdict == verdict
    assert f"{challenger}/{n}" in decision.reason or verdict == "wait"


def test_the_thresholds_are_parameters() -> None:
    evidence = ShadowEvidence(10, 7, 8)
    assert decide_shadow(evidence, min_items=10, max_drop=0.1).verdict == "promote"
    assert decide_shadow(evidence, min_items=10, max_drop=0.05).verdict == "reject"
    assert decide_shadow(evidence, min_items=11).verdict == "wait"
    assert decide_shadow(evidence, min_items=11).reason == (
        "shadowing: 10 of 11 live labelled items so far"
    )


@pytest.mark.parametrize(
    ("evidence", "kwargs"),
    [((5, 6, 0), {}), ((5, 0, -1), {}), ((-1, 0, 0), {}), ((5, 1, 1), {"min_items": 0}),
     ((5, 1, 1), {"max_drop": 1.5})],
)  # fmt: skip
def test_bad_inputs_are_refused(evidence: tuple[int, int, int], kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        decide_shadow(ShadowEvidence(*evidence), **kwargs)  # type: ignore[arg-type]


@given(st.integers(1, 500), st.data())
def test_more_agreement_never_turns_promote_into_reject(n: int, data: st.DataObject) -> None:
    champion = data.draw(st.integers(0, n))
    challenger = data.draw(st.integers(0, n - 1))
    before = decide_shadow(ShadowEvidence(n, challenger, champion), min_items=1).verdict
    after = decide_shadow(ShadowEvidence(n, challenger + 1, champion), min_items=1).verdict
    assert not (before == "promote" and after == "reject")
    # A challenger at least as good as the champion is always promoted.
    if challenger >= champion:
        assert before == "promote"
