from __future__ import annotations

from typing import Any

import pytest

from loupe.errors import InvalidInput
from loupe.reputation import EffortPolicy, RecentWork, detect_low_effort

NORMAL: dict[str, Any] = {
    "lead_times_ms": [4000 + 250 * (i % 9) for i in range(40)],
    "project_median_ms": 5000.0,
    "answers": ["a", "b", "c", "a", "b"] * 8,
    "project_top_share": 0.4,
    "n_agree": 34,
    "n_compared": 40,
    "n_classes": 3,
}


def work(**changes: Any) -> RecentWork:
    return RecentWork(**{**NORMAL, **changes})


def codes(w: RecentWork, policy: EffortPolicy | None = None) -> list[str]:
    return [f.code for f in detect_low_effort(w, policy=policy)]


def test_a_normal_contributor_has_no_findings() -> None:
    assert detect_low_effort(work()) == []


def test_too_fast() -> None:
    (finding,) = detect_low_effort(work(lead_times_ms=[1000] * 19 + [9000] * 2))
    assert finding.code == "too_fast"
    assert finding.numbers == {
        "median_ms": 1000.0,
        "project_median_ms": 5000.0,
        "ratio": 0.2,
        "n_labels": 21.0,
        "threshold_ratio": 0.25,
    }
    assert finding.message == (
        "median time per label 1.0 s over 21 labels is 0.20 x the project's median of 5.0 s "
        "(flagged below 0.25 x)"
    )
    assert codes(work(lead_times_ms=[1000] * 19)) == []  # too few labels to judge
    assert codes(work(lead_times_ms=[1250] * 20)) == []  # exactly a quarter is not below it
    assert codes(work(lead_times_ms=[1000] * 20, project_median_ms=None)) == []


def test_one_answer() -> None:
    (finding,) = detect_low_effort(work(answers=["b"] * 19 + ["a"]))
    assert finding.code == "one_answer"
    assert finding.numbers["share"] == 0.95
    assert finding.message.startswith(
        "'b' is 19 of 20 answers (95%), while the project's most common answer is 40%"
    )
    assert codes(work(answers=["b"] * 18 + ["a", "c"])) == []  # 90%
    assert codes(work(answers=["b"] * 19)) == []  # too few answers
    # A project where most answers are the same: one answer is no sign of low effort.
    assert codes(work(answers=["b"] * 30, project_top_share=0.6)) == []
    assert codes(work(answers=["b"] * 30, project_top_share=None)) == []


def test_chance_agreement() -> None:
    (finding,) = detect_low_effort(work(n_agree=12, n_compared=30, n_classes=3))
    assert finding.code == "chance_agreement"
    numbers = finding.numbers
    assert numbers["agreement"] == 0.4
    assert numbers["floor"] == pytest.approx(1 / 3 + 0.1)
    assert 0.2 < numbers["p_value"] < 0.3  # P(X >= 12 | n=30, p=1/3) ~ 0.27
    assert (
        "agreed with consensus on 12 of 30 labels (40%); chance with 3 classes is 33%"
        in finding.message
    )
    assert codes(work(n_agree=13, n_compared=30, n_classes=3)) == []  # 43.3% >= 43.3%
    assert codes(work(n_agree=10, n_compared=29, n_classes=3)) == []  # too few compared
    assert codes(work(n_agree=0, n_compared=30, n_classes=None)) == []
    assert codes(work(n_agree=15, n_compared=30, n_classes=2)) == ["chance_agreement"]


def test_a_random_clicker_trips_every_finding() -> None:
    lazy = work(lead_times_ms=[600] * 40, answers=["a"] * 40, n_agree=14, n_compared=40)
    assert codes(lazy) == ["too_fast", "one_answer", "chance_agreement"]


def test_thresholds_come_from_the_policy() -> None:
    policy = EffortPolicy(fast_ratio=0.9, one_answer_share=0.6, chance_margin=0.6)
    assert codes(work(), policy) == ["chance_agreement"]
    assert codes(work(project_median_ms=6000.0), policy) == ["too_fast", "chance_agreement"]
    with pytest.raises(ValueError, match="extra"):
        EffortPolicy.model_validate({"fast": 0.5})


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"n_agree": 41}, "need 0 <= n_agree <= n_compared"),
        ({"lead_times_ms": [-1.0]}, "lead times must be finite"),
        ({"project_median_ms": 0.0}, "project_median_ms must be > 0"),
        ({"project_top_share": 1.5}, "project_top_share must lie in [0, 1]"),
    ],
)
def test_inputs_are_checked(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        work(**changes)
    assert fragment in info.value.message
