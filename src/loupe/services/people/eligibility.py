"""Routing on the hot path: a contributor's profile, and the SQL form of the routing rule.

:func:`loupe.routing.why_not` is the rule; :func:`item_filter` says the same thing
as a SQL condition over ``items i`` so that ``next task`` (and the review and expert
queues) never even look at an item the contributor may not receive. Submit, skip,
flag and review check the rule again on the one item they touch
(:func:`require_eligible`), so no endpoint hands an ineligible contributor an item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loupe.db.queries.contributor_domains import PROFILE_PARTS
from loupe.db.queries.items import ITEM_REQUIREMENTS, ItemRequirements
from loupe.db.raw import Raw
from loupe.errors import PermissionDenied
from loupe.routing import (
    GENERAL,
    Profile,
    Requirements,
    RoutingPolicy,
    why_not,
)

__all__ = ["SqlFilter", "item_filter", "load_profile", "require_eligible"]


def load_profile(
    raw: Raw, user_id: int, *, now: datetime, project_id: int | None = None
) -> Profile:
    """The contributor's profile; clearances are those held in ``project_id`` only
    (none without a project: a clearance never carries over to another project)."""
    levels: dict[str, int] = {}
    languages: set[str] = set()
    clearances: list[str] = []
    upper: dict[str, float] = {}
    parts = raw.all(PROFILE_PARTS, user=user_id, now=raw.time(now), project=project_id or 0)
    for part in parts:
        if part.kind == "d":
            levels[part.name] = int(part.value)
        elif part.kind == "l":
            languages.add(part.name)
        elif part.kind == "c":
            clearances.append(part.name)
        else:
            upper[part.name] = float(part.value)
    return Profile(
        levels=levels,
        languages=frozenset(languages),
        clearances=tuple(clearances),
        reputation_upper=upper,
    )


@dataclass(frozen=True, slots=True)
class SqlFilter:
    """``AND ...`` conditions over ``items i`` with their bound parameters."""

    sql: str
    params: dict[str, Any]


def item_filter(policy: RoutingPolicy, profile: Profile, *, prefix: str = "r") -> SqlFilter:
    """The routing rule for ``profile`` as SQL over ``items i`` (see :func:`why_not`)."""
    params: dict[str, Any] = {}
    parts: list[str] = []

    def bind(value: Any) -> str:
        name = f"{prefix}{len(params)}"
        params[name] = value
        return f":{name}"

    # The contributor's level in the item's domain, and the level the item needs.
    mine = "0"
    if profile.levels:
        cases = " ".join(
            f"WHEN {bind(domain)} THEN {int(level)}" for domain, level in profile.levels.items()
        )
        mine = f"(CASE i.domain {cases} ELSE 0 END)"
    needed_cases = " ".join(
        f"WHEN {bind(domain)} THEN {int(level)}" for domain, level in policy.domain_levels.items()
    )
    general = "" if GENERAL in policy.domain_levels else f"WHEN {bind(GENERAL)} THEN 0 "
    needed = f"(CASE i.domain {needed_cases} {general}ELSE {int(policy.default_level)} END)"
    parts.append(f"{mine} >= {needed} AND {mine} >= i.min_level")

    if policy.match_language:
        tests = ["i.language IS NULL"]
        for language in sorted(profile.languages):
            tests.append(f"lower(i.language) = {bind(language)}")
            tests.append(f"lower(i.language) LIKE {bind(language + '-%')}")
        parts.append("(" + " OR ".join(tests) + ")")

    blocked = [s for s in policy.clearance_for if not profile.cleared_for(s)]
    if blocked:
        parts.append(f"i.sensitivity NOT IN ({', '.join(bind(s) for s in blocked)})")
    if policy.min_reputation is not None:
        below = sorted(
            domain
            for domain, bound in profile.reputation_upper.items()
            if bound < policy.min_reputation
        )
        if below:
            parts.append(f"i.domain NOT IN ({', '.join(bind(d) for d in below)})")
    return SqlFilter(sql="".join(f" AND {part}" for part in parts), params=params)


def require_eligible(
    raw: Raw,
    policy: RoutingPolicy,
    user_id: int,
    item_id: int,
    *,
    now: datetime,
    item: ItemRequirements | None = None,
) -> None:
    """Raise :class:`PermissionDenied` unless the contributor may receive the item
    (``item``: its requirements, when the caller read them already)."""
    item = item or raw.one(ITEM_REQUIREMENTS, item=item_id)
    if item is None:
        return  # the caller reports the missing item
    requirements = Requirements(
        domain=item.domain,
        language=item.language,
        sensitivity=item.sensitivity,
        min_level=int(item.min_level),
    )
    profile = load_profile(raw, user_id, now=now, project_id=int(item.project_id))
    reason = why_not(policy, profile, requirements)
    if reason is not None:
        raise PermissionDenied(
            f"item {item_id} is not routed to you: it {reason}",
            details={"item_id": item_id, "reason": reason},
        )
