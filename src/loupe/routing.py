"""Who may receive which item: a project's routing and peer-review policies.

An item's requirements come from its columns (``domain``, ``language``,
``sensitivity``, ``min_level`` from its metadata) and the project's
:class:`RoutingPolicy`; a contributor's profile (domain levels, languages,
clearances) either meets them or not. :func:`eligible` is the one rule; the task
queue applies the same rule in SQL (``loupe.services.people.eligibility``).

>>> policy = RoutingPolicy(domain_levels={"medical": 2}, match_language=True)
>>> profile = Profile(levels={"medical": 3}, languages=frozenset({"de"}), clearances=())
>>> eligible(policy, profile, Requirements("medical", "de-AT", "personal", 0))
True
>>> eligible(policy, profile, Requirements("legal", "fr", "internal", 0))
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loupe.reputation import Tier

__all__ = [
    "GENERAL",
    "SPECIAL_CATEGORIES",
    "Profile",
    "Requirements",
    "ReviewPolicy",
    "RoutingPolicy",
    "eligible",
    "language_tag",
    "required_level",
    "why_not",
]

GENERAL = "general"
SENSITIVITY_ORDER = ("public", "internal", "personal", "health")
# Sensitivity classes that hold special-category data (GDPR art. 9): cleared people only,
# unless a manager opens them explicitly.
SPECIAL_CATEGORIES: tuple[Literal["personal", "health"], ...] = ("health",)


class RoutingPolicy(BaseModel):
    """Which contributors receive which items, and where escalations go.

    Levels: 0 anyone, 1 qualified, 2 advanced, 3 expert (earned by passing a
    qualification test or granted by a manager). By default nothing is required.
    """

    model_config = ConfigDict(extra="forbid")

    domain_levels: dict[str, int] = Field(
        default_factory=dict,
        description='Minimum level per domain, e.g. {"medical": 1}; unlisted domains use '
        "default_level, and 'general' needs nothing unless listed.",
    )
    default_level: int = Field(default=0, ge=0, le=3)
    match_language: bool = Field(
        default=False, description="Offer an item only to contributors who list its language."
    )
    clearance_for: list[Literal["personal", "health"]] = Field(
        default_factory=lambda: list(SPECIAL_CATEGORIES),
        description="Sensitivity classes whose items go only to contributors cleared for "
        "them. Special-category data (GDPR art. 9: health) is listed by default; leaving it "
        "out opens it to everyone in the project, and that choice is audited.",
    )
    priority: Literal["fifo", "expertise"] = Field(
        default="fifo",
        description="fifo: oldest first; expertise: items in the contributor's own domains "
        "(level >= 1) first, so specialists are not spent on general work.",
    )
    expert_level: int = Field(
        default=3, ge=1, le=3, description="Level that may answer escalated items of a domain."
    )
    min_reputation: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="Withhold a domain's items from contributors whose reputation there is "
        "confidently below this (the 95% posterior bound under it), e.g. someone who passed "
        "a qualification test by luck and then labels at chance.",
    )

    @property
    def is_open(self) -> bool:
        """Nothing is required of anyone (items may still ask a ``min_level``)."""
        return (
            not any(self.domain_levels.values())
            and self.default_level == 0
            and not self.match_language
            and not self.clearance_for
            and self.min_reputation is None
        )

    @field_validator("domain_levels")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        for domain, level in value.items():
            if not 0 <= level <= 3 or not 0 < len(domain) <= 32:
                raise ValueError(f"{domain!r}: a domain name (1-32 chars) with a level 0..3")
        return value


class ReviewPolicy(BaseModel):
    """Peer review: which labels are checked by whom, and what reviewers may see."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of labels sampled for peer review."
    )
    reviews_per_label: int = Field(default=1, ge=1, le=5)
    show_other_labels: bool = Field(
        default=False,
        description="Reviewers see the item's other labels (never who gave them). Off: blind.",
    )
    min_tier: Tier = Field(
        default="trusted",
        description="Reputation tier (in the item's domain) an annotator needs to review; "
        "project reviewers and managers may always review.",
    )


@dataclass(frozen=True, slots=True)
class Requirements:
    domain: str
    language: str | None
    sensitivity: str
    min_level: int


@dataclass(frozen=True, slots=True)
class Profile:
    """What routing knows of a contributor: unexpired levels, languages, clearances."""

    levels: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    clearances: tuple[str, ...] = ()  # sensitivity classes with an unexpired clearance
    # Per domain: the 95% upper bound of the contributor's reputation (absent: no evidence).
    reputation_upper: Mapping[str, float] = field(default_factory=dict)

    def cleared_for(self, sensitivity: str) -> bool:
        if sensitivity not in SENSITIVITY_ORDER:
            return False
        rank = SENSITIVITY_ORDER.index(sensitivity)
        return any(
            c in SENSITIVITY_ORDER and SENSITIVITY_ORDER.index(c) >= rank for c in self.clearances
        )


def language_tag(language: str | None) -> str | None:
    """The primary subtag, lower-cased: ``"de-AT"`` -> ``"de"``."""
    if not language:
        return None
    return language.replace("_", "-").split("-")[0].lower() or None


def required_level(policy: RoutingPolicy, domain: str, item_min_level: int = 0) -> int:
    """The level an item of ``domain`` needs under ``policy``."""
    if domain in policy.domain_levels:
        base = policy.domain_levels[domain]
    else:
        base = 0 if domain == GENERAL else policy.default_level
    return max(base, item_min_level)


def why_not(policy: RoutingPolicy, profile: Profile, item: Requirements) -> str | None:
    """Why ``profile`` may not receive ``item`` (``None``: it may)."""
    need = required_level(policy, item.domain, item.min_level)
    if need > 0 and profile.levels.get(item.domain, 0) < need:
        return f"needs level {need} in {item.domain}"
    tag = language_tag(item.language)
    if policy.match_language and tag is not None and tag not in profile.languages:
        return f"needs the language {tag}"
    if item.sensitivity in policy.clearance_for and not profile.cleared_for(item.sensitivity):
        return f"needs a clearance for {item.sensitivity} data"
    if policy.min_reputation is not None and (
        profile.reputation_upper.get(item.domain, 1.0) < policy.min_reputation
    ):
        return f"needs a reputation in {item.domain} that is not confidently below " + (
            f"{policy.min_reputation:g}"
        )
    return None


def eligible(policy: RoutingPolicy, profile: Profile, item: Requirements) -> bool:
    return why_not(policy, profile, item) is None
