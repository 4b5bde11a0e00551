"""A contributor's score: a Beta posterior from time-decayed evidence, explained by its inputs.

Each piece of evidence counts with weight :math:`w = w_e \\cdot w_\\text{kind} \\cdot
2^{-\\text{age} / h}` (``h`` the half-life) and adds :math:`w \\cdot s` to alpha and
:math:`w (1 - s)` to beta, for its success :math:`s`. Because every weight decays by the same
factor over the same time, the sums can be kept incrementally — decay the running sums to
``now``, add the new evidence — and :func:`advance` gives exactly what :func:`score` computes
from the whole history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from loupe.errors import InvalidInput
from loupe.reputation.evidence import Evidence
from loupe.reputation.policy import ReputationPolicy

__all__ = [
    "Contribution",
    "Reputation",
    "ReputationState",
    "advance",
    "decay_factor",
    "reputation_from_state",
    "score",
]

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Contribution:
    """What one piece of evidence added to a score.

    ``decay`` is :math:`2^{-\\text{age}/h}`; ``weight`` the evidence's own weight times its
    kind's weight times ``decay``; ``alpha`` and ``beta`` what it added to the posterior.
    """

    evidence: Evidence
    decay: float
    weight: float
    alpha: float
    beta: float


@dataclass(frozen=True)
class Reputation:
    """The Beta(alpha, beta) posterior over the share of a contributor's work that is right.

    ``mean`` is alpha / (alpha + beta); ``lower`` and ``upper`` the policy's quantiles (5% and
    95% by default); ``effective_n`` the decayed evidence weight, prior excluded. ``contributions``
    lists every input (empty when built from a :class:`ReputationState`, which keeps only sums).
    """

    alpha: float
    beta: float
    mean: float
    lower: float
    upper: float
    effective_n: float
    as_of: datetime
    contributions: tuple[Contribution, ...] = ()


@dataclass(frozen=True)
class ReputationState:
    """The running, decayed evidence sums as of a time: what a database row needs to keep.

    >>> from datetime import datetime, timezone
    >>> ReputationState(0.0, 0.0, datetime(2025, 1, 1, tzinfo=timezone.utc)).alpha_evidence
    0.0
    """

    alpha_evidence: float
    beta_evidence: float
    as_of: datetime

    def __post_init__(self) -> None:
        _check_aware(self.as_of, "as_of")
        if not (self.alpha_evidence >= 0.0 and self.beta_evidence >= 0.0):
            raise InvalidInput(
                "evidence sums must be >= 0, got "
                f"alpha_evidence={self.alpha_evidence!r} beta_evidence={self.beta_evidence!r}"
            )


def decay_factor(age_seconds: float, half_life_days: float) -> float:
    """:math:`2^{-\\text{age}/h}`: 1 now, 1/2 after one half-life.

    >>> decay_factor(90 * 86_400, 90.0)
    0.5
    """
    return float(0.5 ** (age_seconds / (half_life_days * SECONDS_PER_DAY)))


def score(
    evidence: Iterable[Evidence], *, now: datetime, policy: ReputationPolicy | None = None
) -> Reputation:
    """The reputation at ``now`` from all of a contributor's evidence (in a domain).

    Evidence after ``now`` is refused: a score must not depend on the future.

    >>> from datetime import datetime, timedelta, timezone
    >>> now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    >>> history = [
    ...     Evidence(kind="gold", success=1.0, at=now, ref="gold:item:1"),
    ...     Evidence(kind="gold", success=0.0, at=now - timedelta(days=90), ref="gold:item:2"),
    ...     Evidence(kind="review_received", success=1.0, at=now, ref="review:7"),
    ... ]
    >>> r = score(history, now=now)
    >>> r.alpha, r.beta, round(r.mean, 3), round(r.lower, 3), r.effective_n
    (3.5, 1.5, 0.7, 0.349, 2.0)
    >>> [(c.evidence.ref, c.weight) for c in r.contributions]
    [('gold:item:1', 1.0), ('gold:item:2', 0.5), ('review:7', 0.5)]
    """
    policy = policy or ReputationPolicy()
    _check_aware(now, "now")
    contributions = tuple(_contribution(e, now, policy) for e in evidence)
    alpha = math.fsum(c.alpha for c in contributions)
    beta = math.fsum(c.beta for c in contributions)
    return _summarise(alpha, beta, now, policy, contributions)


def advance(
    state: ReputationState,
    evidence: Evidence | Iterable[Evidence],
    *,
    now: datetime,
    policy: ReputationPolicy | None = None,
) -> ReputationState:
    """Decay ``state`` to ``now`` and add ``evidence`` (one or many, possibly none).

    ``now`` may not go back before ``state.as_of``; evidence may arrive late (``at`` before
    ``state.as_of``) but never from after ``now``. Folding a history through ``advance`` gives
    the sums :func:`score` gives for the same history and ``now``.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> state = ReputationState(0.0, 0.0, t0)
    >>> state = advance(state, Evidence(kind="gold", success=1.0, at=t0, ref="g1"), now=t0)
    >>> later = advance(state, [], now=t0 + timedelta(days=90))
    >>> later.alpha_evidence, later.beta_evidence
    (0.5, 0.0)
    """
    policy = policy or ReputationPolicy()
    _check_aware(now, "now")
    if now < state.as_of:
        raise InvalidInput(
            f"now ({now.isoformat()}) is before the state's as_of ({state.as_of.isoformat()}); "
            "a reputation state only moves forward in time",
            details={"now": now.isoformat(), "as_of": state.as_of.isoformat()},
        )
    batch = [evidence] if isinstance(evidence, Evidence) else list(evidence)
    carried = decay_factor((now - state.as_of).total_seconds(), policy.half_life_days)
    added = [_contribution(e, now, policy) for e in batch]
    return ReputationState(
        alpha_evidence=math.fsum([state.alpha_evidence * carried, *(c.alpha for c in added)]),
        beta_evidence=math.fsum([state.beta_evidence * carried, *(c.beta for c in added)]),
        as_of=now,
    )


def reputation_from_state(
    state: ReputationState, *, policy: ReputationPolicy | None = None
) -> Reputation:
    """The reputation a state stands for at its ``as_of`` (without the list of inputs)."""
    policy = policy or ReputationPolicy()
    return _summarise(state.alpha_evidence, state.beta_evidence, state.as_of, policy, ())


def _contribution(evidence: Evidence, now: datetime, policy: ReputationPolicy) -> Contribution:
    age = (now - evidence.at).total_seconds()
    if age < 0:
        raise InvalidInput(
            f"evidence {evidence.ref} is dated {evidence.at.isoformat()}, after now "
            f"({now.isoformat()}); score at a later time",
            details={"ref": evidence.ref, "at": evidence.at.isoformat()},
        )
    decay = decay_factor(age, policy.half_life_days)
    weight = evidence.weight * policy.weights.of(evidence.kind) * decay
    return Contribution(
        evidence=evidence,
        decay=decay,
        weight=weight,
        alpha=weight * evidence.success,
        beta=weight * (1.0 - evidence.success),
    )


def _summarise(
    alpha_evidence: float,
    beta_evidence: float,
    as_of: datetime,
    policy: ReputationPolicy,
    contributions: tuple[Contribution, ...],
) -> Reputation:
    from scipy.stats import beta as beta_distribution

    alpha = policy.prior_alpha + alpha_evidence
    beta = policy.prior_beta + beta_evidence
    return Reputation(
        alpha=alpha,
        beta=beta,
        mean=alpha / (alpha + beta),
        lower=float(beta_distribution.ppf(policy.lower_quantile, alpha, beta)),
        upper=float(beta_distribution.ppf(policy.upper_quantile, alpha, beta)),
        effective_n=alpha_evidence + beta_evidence,
        as_of=as_of,
        contributions=contributions,
    )


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{name} must carry a time zone, got {value.isoformat()}", details={"field": name}
        )
