"""Low-effort detection: patterns in a contributor's recent work that a person should look at.

Three findings, each with a stable ``code``, a sentence with the numbers, and the numbers:

* ``too_fast`` — their median time per label is below ``fast_ratio`` (0.25) times the project's
  median, over at least ``fast_min_labels`` (20) labels: nobody reads a task in a quarter of the
  time everyone else needs.
* ``one_answer`` — at least ``one_answer_share`` (95%) of at least ``one_answer_min_labels``
  (20) answers are the same, while the project's most common answer is below
  ``one_answer_project_top_share`` (60%) of all answers: the data are varied, their answers not.
* ``chance_agreement`` — over at least ``chance_min_compared`` (30) labels compared with
  consensus, their agreement rate is below :math:`1/K + ` ``chance_margin`` (0.1) for K classes.

Why a rate floor rather than "not significantly above chance" (a one-sided binomial test at
alpha 0.01): the test controls how often a random clicker escapes, not how often an honest
contributor is accused, and with 30 binary labels it would flag 24% of contributors who agree
with consensus 77% of the time (the floor: 1%) and 57% of those at 70% (the floor: 8%), while
the floor still catches 82% of chance-level clickers at 30 labels and more as labels accrue.
A finding pauses a contributor for review, so false accusations are the costlier error. The
binomial p-value is still reported in the finding's numbers, as evidence for the reviewer.

Findings are reports, not verdicts: the service pauses the contributor for a person to review,
and never acts on them silently.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loupe.errors import InvalidInput

__all__ = ["EffortFinding", "EffortPolicy", "FindingCode", "RecentWork", "detect_low_effort"]

FindingCode = Literal["too_fast", "one_answer", "chance_agreement"]


class EffortPolicy(BaseModel):
    """The thresholds of the three findings (see the module docstring for the reasons)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fast_ratio: float = Field(default=0.25, gt=0.0, lt=1.0)
    fast_min_labels: int = Field(default=20, ge=1)
    one_answer_share: float = Field(default=0.95, gt=0.5, le=1.0)
    one_answer_min_labels: int = Field(default=20, ge=1)
    one_answer_project_top_share: float = Field(default=0.6, gt=0.0, le=1.0)
    chance_min_compared: int = Field(default=30, ge=1)
    chance_margin: float = Field(default=0.1, ge=0.0, lt=1.0)


@dataclass(frozen=True, kw_only=True)
class RecentWork:
    """A contributor's recent work in one project, and the project's figures to compare with.

    ``project_median_ms`` ``None`` skips ``too_fast``; ``project_top_share`` ``None`` (no
    categorical answers) skips ``one_answer``; ``n_classes`` ``None`` or below 2 skips
    ``chance_agreement``.
    """

    lead_times_ms: Sequence[float]
    project_median_ms: float | None
    answers: Sequence[Hashable]
    project_top_share: float | None
    n_agree: int
    n_compared: int
    n_classes: int | None

    def __post_init__(self) -> None:
        if not 0 <= self.n_agree <= self.n_compared:
            raise InvalidInput(
                f"need 0 <= n_agree <= n_compared, got {self.n_agree} and {self.n_compared}",
                details={"n_agree": self.n_agree, "n_compared": self.n_compared},
            )
        if any(not math.isfinite(t) or t < 0 for t in self.lead_times_ms):
            raise InvalidInput("lead times must be finite and >= 0 milliseconds")
        if self.project_median_ms is not None and not self.project_median_ms > 0:
            raise InvalidInput(
                f"project_median_ms must be > 0, got {self.project_median_ms!r}",
                details={"field": "project_median_ms"},
            )
        if self.project_top_share is not None and not 0.0 <= self.project_top_share <= 1.0:
            raise InvalidInput(
                f"project_top_share must lie in [0, 1], got {self.project_top_share!r}",
                details={"field": "project_top_share"},
            )


@dataclass(frozen=True)
class EffortFinding:
    """One low-effort pattern: a stable code, a sentence for people, and the numbers behind it."""

    code: FindingCode
    message: str
    numbers: Mapping[str, float]


def detect_low_effort(
    work: RecentWork, *, policy: EffortPolicy | None = None
) -> list[EffortFinding]:
    """The low-effort findings for ``work``, in the order too_fast, one_answer, chance_agreement.

    >>> work = RecentWork(lead_times_ms=[900] * 25, project_median_ms=8000,
    ...                   answers=["yes"] * 25, project_top_share=0.4,
    ...                   n_agree=14, n_compared=30, n_classes=2)
    >>> [f.code for f in detect_low_effort(work)]
    ['too_fast', 'one_answer', 'chance_agreement']
    >>> print(detect_low_effort(work)[0].message)
    median time per label 0.9 s over 25 labels is 0.11 x the project's median of 8.0 s \
(flagged below 0.25 x)
    """
    policy = policy or EffortPolicy()
    findings = [_too_fast(work, policy), _one_answer(work, policy), _chance(work, policy)]
    return [finding for finding in findings if finding is not None]


def _too_fast(work: RecentWork, policy: EffortPolicy) -> EffortFinding | None:
    n = len(work.lead_times_ms)
    if work.project_median_ms is None or n < policy.fast_min_labels:
        return None
    median = float(statistics.median(work.lead_times_ms))
    ratio = median / work.project_median_ms
    if ratio >= policy.fast_ratio:
        return None
    return EffortFinding(
        code="too_fast",
        message=(
            f"median time per label {median / 1000:.1f} s over {n} labels is {ratio:.2f} x the "
            f"project's median of {work.project_median_ms / 1000:.1f} s "
            f"(flagged below {policy.fast_ratio:g} x)"
        ),
        numbers={
            "median_ms": median,
            "project_median_ms": float(work.project_median_ms),
            "ratio": ratio,
            "n_labels": float(n),
            "threshold_ratio": policy.fast_ratio,
        },
    )


def _one_answer(work: RecentWork, policy: EffortPolicy) -> EffortFinding | None:
    n = len(work.answers)
    if work.project_top_share is None or n < policy.one_answer_min_labels:
        return None
    # Counter.most_common keeps first-seen order among equals: deterministic.
    answer, count = Counter(work.answers).most_common(1)[0]
    share = count / n
    if share < policy.one_answer_share or work.project_top_share >= (
        policy.one_answer_project_top_share
    ):
        return None
    return EffortFinding(
        code="one_answer",
        message=(
            f"{answer!r} is {count} of {n} answers ({share:.0%}), while the project's most "
            f"common answer is {work.project_top_share:.0%} of all answers (flagged at "
            f"{policy.one_answer_share:.0%} when the project's is below "
            f"{policy.one_answer_project_top_share:.0%})"
        ),
        numbers={
            "share": share,
            "n_same": float(count),
            "n_answers": float(n),
            "project_top_share": work.project_top_share,
            "threshold_share": policy.one_answer_share,
        },
    )


def _chance(work: RecentWork, policy: EffortPolicy) -> EffortFinding | None:
    k = work.n_classes
    if k is None or k < 2 or work.n_compared < policy.chance_min_compared:
        return None
    rate = work.n_agree / work.n_compared
    chance = 1.0 / k
    floor = chance + policy.chance_margin
    if rate >= floor:
        return None
    # SciPy (~50 MB, ~0.5 s) only for a finding, never on a plain submit's path.
    from scipy.stats import binomtest

    p_value = float(binomtest(work.n_agree, work.n_compared, chance, alternative="greater").pvalue)
    return EffortFinding(
        code="chance_agreement",
        message=(
            f"agreed with consensus on {work.n_agree} of {work.n_compared} labels ({rate:.0%}); "
            f"chance with {k} classes is {chance:.0%} and the floor is {floor:.0%} "
            f"(a contributor answering at random would agree this often with probability "
            f"{p_value:.2f})"
        ),
        numbers={
            "agreement": rate,
            "n_agree": float(work.n_agree),
            "n_compared": float(work.n_compared),
            "chance": chance,
            "floor": floor,
            "p_value": p_value,
        },
    )
