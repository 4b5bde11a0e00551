"""Plain-SQL statements about the ``assignments`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class LeaseExpiry(NamedTuple):
    expires_at: Any  # str on SQLite, datetime on PostgreSQL: read with Raw.time_out


USERS_LEASE_ON_ITEM = Query(
    "SELECT expires_at FROM assignments WHERE item_id = :item AND user_id = :user", LeaseExpiry
)


class HeldTask(NamedTuple):
    item_id: int
    id: int


# The task lease :user holds in :project at :now, if any.
HELD_TASK = Query(
    "SELECT item_id, id FROM assignments "
    "WHERE user_id = :user AND project_id = :project AND expires_at > :now ORDER BY id LIMIT 1",
    HeldTask,
)


class HeldExpertTask(NamedTuple):
    item_id: int
    reason: str


# The expert-stage escalated item :user holds in :project at :now, if any.
HELD_EXPERT_TASK = Query(
    "SELECT a.item_id, e.reason FROM assignments a JOIN escalations e ON e.item_id = a.item_id "
    "WHERE a.user_id = :user AND a.project_id = :project AND a.expires_at > :now "
    "AND e.resolved_at IS NULL AND e.stage = 'expert' ORDER BY a.id LIMIT 1",
    HeldExpertTask,
)
# Leases item :item to :user until :expires.
LEASE_ITEM = (
    "INSERT INTO assignments (project_id, item_id, user_id, expires_at, created_at) "
    "VALUES (:project, :item, :user, :expires, :now)"
)
RELEASE_ITEM = "DELETE FROM assignments WHERE item_id = :item AND user_id = :user"
# Drops :user's lease on :item, if any, and leases it again, in one statement.
RELEASE_AND_LEASE_ITEM = (
    LEASE_ITEM + " ON CONFLICT (item_id, user_id) DO UPDATE SET "
    "project_id = excluded.project_id, expires_at = excluded.expires_at, "
    "created_at = excluded.created_at"
)
RENEW_LEASE = "UPDATE assignments SET expires_at = :expires WHERE id = :id"


class OtherLeases(NamedTuple):
    leases: int


# Unexpired leases on :item held by anyone but :user.
OTHER_LEASES_ON_ITEM = Query(
    "SELECT count(*) FROM assignments "
    "WHERE item_id = :item AND expires_at > :now AND user_id <> :user",
    OtherLeases,
)


class HoldsOrLabelled(NamedTuple):
    found: int


# A row when :user holds a lease on :item, one more when they labelled it.
HOLDS_OR_LABELLED = Query(
    "SELECT 1 FROM assignments WHERE item_id = :item AND user_id = :user AND expires_at > :now "
    "UNION ALL SELECT 1 FROM labels WHERE item_id = :item AND user_id = :user",
    HoldsOrLabelled,
)
