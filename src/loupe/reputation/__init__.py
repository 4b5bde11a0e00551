"""Reputation: how far each contributor's work can be trusted, per domain, with uncertainty.

Pure (no database, no HTTP). The model:

1. **Evidence** (:class:`Evidence`) is every checked outcome of a contributor's work — gold
   answers, peer reviews they received, their own reviews checked against gold, agreement with
   consensus — each a success in [0, 1] with a weight and a time. The service collects it per
   contributor and domain.
2. **Score** (:func:`score`): a Beta(alpha, beta) posterior over the share of their work that is
   right. A prior (2, 1 by default) plus each outcome's weight, times its kind's weight
   (:class:`EvidenceWeights`), halved every ``half_life_days``. The result reports the mean,
   a 90% credible interval, the effective number of outcomes and every input's contribution, so
   a score is explained by what produced it. :func:`advance` keeps the same sums incrementally
   (:class:`ReputationState`), equal to the batch score.
3. **Tiers** (:func:`assign_tier`): new < standard < trusted < expert, decided by rules on the
   interval's lower end (act on what we are 95% sure of) and the domain level; each tier
   unlocks reviewing, expert tasks and a pay multiplier (:data:`TIER_UNLOCKS`).
4. **Effort** (:func:`detect_low_effort`): patterns of low-effort work (far faster than the
   project, one answer for everything, agreement at chance) reported as findings with their
   numbers, for a person to review — never acted on silently.

>>> from datetime import datetime, timezone
>>> now = datetime(2025, 6, 1, tzinfo=timezone.utc)
>>> history = [Evidence(kind="gold", success=1.0, at=now, ref=f"gold:item:{i}") for i in range(30)]
>>> decision = assign_tier(score(history, now=now), domain_level=1, policy=ReputationPolicy())
>>> decision.tier, decision.unlocks.review
('trusted', True)
"""

from loupe.reputation.effort import (
    EffortFinding,
    EffortPolicy,
    FindingCode,
    RecentWork,
    detect_low_effort,
)
from loupe.reputation.evidence import EVIDENCE_KINDS, Evidence, EvidenceKind
from loupe.reputation.policy import EvidenceWeights, ReputationPolicy, TierThresholds
from loupe.reputation.score import (
    Contribution,
    Reputation,
    ReputationState,
    advance,
    decay_factor,
    reputation_from_state,
    score,
)
from loupe.reputation.tiers import (
    TIER_UNLOCKS,
    TIERS,
    Tier,
    TierDecision,
    TierRule,
    TierUnlocks,
    assign_tier,
    tier_at_least,
    tier_rules,
)

__all__ = [
    "EVIDENCE_KINDS",
    "TIERS",
    "TIER_UNLOCKS",
    "Contribution",
    "EffortFinding",
    "EffortPolicy",
    "Evidence",
    "EvidenceKind",
    "EvidenceWeights",
    "FindingCode",
    "RecentWork",
    "Reputation",
    "ReputationPolicy",
    "ReputationState",
    "Tier",
    "TierDecision",
    "TierRule",
    "TierThresholds",
    "TierUnlocks",
    "advance",
    "assign_tier",
    "decay_factor",
    "detect_low_effort",
    "reputation_from_state",
    "score",
    "tier_at_least",
    "tier_rules",
]
