"""Checking a contributor's effort on every submit does not load SciPy (issue #18)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from loupe.reputation.effort import RecentWork, detect_low_effort

# 30 labels compared with consensus, 25 agreeing: the chance-agreement check runs
# (as it does on every submit once 30 are compared) and finds nothing.
work = RecentWork(
    lead_times_ms=[5000] * 30, project_median_ms=5000, answers=["a", "b"] * 15,
    project_top_share=0.5, n_agree=25, n_compared=30, n_classes=2,
)
assert detect_low_effort(work) == []
print("scipy" in sys.modules)
"""


def test_an_unflagged_contributor_is_checked_without_scipy() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_flagged_contributor_still_gets_the_binomial_p_value() -> None:
    from loupe.reputation.effort import RecentWork, detect_low_effort

    work = RecentWork(
        lead_times_ms=[5000] * 30, project_median_ms=5000, answers=["a", "b"] * 15,
        project_top_share=0.5, n_agree=14, n_compared=30, n_classes=2,
    )  # fmt: skip
    (finding,) = detect_low_effort(work)
    assert finding.code == "chance_agreement"
    # P(X >= 14) for X ~ Binomial(30, 1/2): 0.7077 (exact tail sum).
    assert "probability 0.71" in finding.message
