"""Plain-SQL statements about the ``contributor_domains`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query


class DomainLevel(NamedTuple):
    level: int


LIVE_DOMAIN_LEVEL = Query(
    "SELECT level FROM contributor_domains WHERE user_id = :user AND domain = :domain "
    "AND (expires_at IS NULL OR expires_at > :now)",
    DomainLevel,
)


class ProfilePart(NamedTuple):
    kind: str  # d: domain level, l: language, c: clearance, r: reputation upper bound
    name: str
    value: float  # the level, or the reputation's upper bound (0 otherwise)


# One round trip for the three parts of a profile (all primary-key or indexed lookups).
PROFILE_PARTS = Query(
    "SELECT 'd', domain, level FROM contributor_domains WHERE user_id = :user "
    "AND (expires_at IS NULL OR expires_at > :now) "
    "UNION ALL SELECT 'l', language, 0 FROM contributor_languages WHERE user_id = :user "
    "UNION ALL SELECT 'c', sensitivity, 0 FROM clearances WHERE user_id = :user "
    "AND project_id = :project AND (expires_at IS NULL OR expires_at > :now) "
    "UNION ALL SELECT 'r', domain, upper FROM reputations WHERE user_id = :user",
    ProfilePart,
)
