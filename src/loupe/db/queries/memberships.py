"""Plain-SQL statements about the ``memberships`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query


class MemberRole(NamedTuple):
    role: str


MEMBER_ROLE = Query(
    "SELECT role FROM memberships WHERE project_id = :project AND user_id = :user", MemberRole
)


# Pause a member who is not paused yet (a finding's or gold check's ``reason``).
PAUSE_MEMBER = (
    "UPDATE memberships SET paused_at = :now, paused_reason = :reason "
    "WHERE project_id = :project AND user_id = :user AND paused_at IS NULL"
)
