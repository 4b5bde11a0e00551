"""Shadow evaluation: a challenger that beat the champion on the gold set must also hold up
on live traffic before it is promoted.

Both models answer the same live items, those that people labelled after the challenger
was trained (so neither model trained on them), and each answer is compared with the
people's consensus. The rule (:func:`decide_shadow`):

* fewer than ``min_items`` shadowed, labelled items: **wait** (the champion keeps serving);
* the challenger's agreement is lower than the champion's by more than ``max_drop``:
  **reject** (the gold set flattered it);
* otherwise: **promote**.

``min_items`` and ``max_drop`` are per-project loop settings
(:class:`loupe.services.model_loop.loop_settings.LoopSettings`), checked by
:func:`check_shadow_rule`; the constants below are their defaults.

The comparison is paired (the same items for both), so the selection that sent the items
to people (uncertainty picks hard ones) affects both models alike; the absolute figures are
not the accuracy over all traffic (the random audit estimates that).

>>> decide_shadow(ShadowEvidence(n=50, challenger_correct=49, champion_correct=50)).verdict
'promote'
>>> decide_shadow(ShadowEvidence(n=40, challenger_correct=30, champion_correct=34)).verdict
'reject'
>>> decide_shadow(ShadowEvidence(n=5, challenger_correct=5, champion_correct=0)).verdict
'wait'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loupe.errors import InvalidInput

__all__ = [
    "SHADOW_LIMIT",
    "SHADOW_MAX_DROP",
    "SHADOW_MIN_ITEMS",
    "ShadowDecision",
    "ShadowEvidence",
    "ShadowVerdict",
    "check_shadow_rule",
    "decide_shadow",
]

#: Shadowed, labelled items needed before a verdict (0 turns shadow evaluation off).
SHADOW_MIN_ITEMS = 20
#: Largest drop in agreement with people, challenger against champion, still promoted.
SHADOW_MAX_DROP = 0.02
#: Newest live labelled items a comparison scores: a larger ``min_items`` would wait forever.
SHADOW_LIMIT = 2_000


def check_shadow_rule(min_items: int, max_drop: float) -> None:
    """Raise :class:`InvalidInput` naming the field unless ``0 <= min_items <= SHADOW_LIMIT``
    (0: no shadowing) and ``0 <= max_drop <= 1``.

    >>> check_shadow_rule(20, 0.02)
    >>> check_shadow_rule(2_001, 0.02)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    loupe.errors.InvalidInput: shadow_min_items: must be an integer in [0, 2000] ...
    """
    integer = isinstance(min_items, int) and not isinstance(min_items, bool)
    if not integer or not 0 <= min_items <= SHADOW_LIMIT:
        raise InvalidInput(
            f"shadow_min_items: must be an integer in [0, {SHADOW_LIMIT}] (0 turns shadow "
            f"evaluation off), got {min_items!r}",
            details={"field": "shadow_min_items", "min": 0, "max": SHADOW_LIMIT},
        )
    if not 0.0 <= max_drop <= 1.0:  # also false for NaN
        raise InvalidInput(
            f"shadow_max_drop: must be in [0, 1] (a share of the live items), got {max_drop!r}",
            details={"field": "shadow_max_drop", "min": 0.0, "max": 1.0},
        )


ShadowVerdict = Literal["promote", "reject", "wait"]


@dataclass(frozen=True, slots=True)
class ShadowEvidence:
    """How often each model agreed with the people on the same ``n`` live items."""

    n: int
    challenger_correct: int
    champion_correct: int

    def __post_init__(self) -> None:
        if self.n < 0 or not 0 <= self.challenger_correct <= self.n:
            raise InvalidInput("shadow evidence: need 0 <= challenger_correct <= n")
        if not 0 <= self.champion_correct <= self.n:
            raise InvalidInput("shadow evidence: need 0 <= champion_correct <= n")

    @property
    def challenger_agreement(self) -> float | None:
        return self.challenger_correct / self.n if self.n else None

    @property
    def champion_agreement(self) -> float | None:
        return self.champion_correct / self.n if self.n else None


@dataclass(frozen=True, slots=True)
class ShadowDecision:
    """The verdict, the evidence behind it and a sentence a person can read."""

    verdict: ShadowVerdict
    evidence: ShadowEvidence
    reason: str


def decide_shadow(
    evidence: ShadowEvidence,
    *,
    min_items: int = SHADOW_MIN_ITEMS,
    max_drop: float = SHADOW_MAX_DROP,
) -> ShadowDecision:
    """Promote, reject or wait, from the paired agreement on live labelled items."""
    if min_items < 1:
        raise InvalidInput("min_items must be >= 1", details={"field": "min_items"})
    check_shadow_rule(min_items, max_drop)
    if evidence.n < min_items:
        reason = f"shadowing: {evidence.n} of {min_items} live labelled items so far"
        return ShadowDecision("wait", evidence, reason)
    # Integer arithmetic, so that a drop of exactly max_drop is promoted on every platform.
    drop = (evidence.champion_correct - evidence.challenger_correct) / evidence.n
    figures = (
        f"agreed with people on {evidence.challenger_correct}/{evidence.n} live items "
        f"against the champion's {evidence.champion_correct}/{evidence.n}"
    )
    if drop > max_drop + 1e-12:
        return ShadowDecision("reject", evidence, f"shadow: {figures}, a drop above {max_drop:.4f}")
    return ShadowDecision("promote", evidence, f"shadow: {figures}")
