"""Plain-SQL statements about the ``escalations`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query

# An item goes to the experts, once (a second opening changes no row).
OPEN_ESCALATION = (
    "INSERT INTO escalations (item_id, project_id, reason, confidence, n_labels, created_at) "
    "VALUES (:item, :project, :reason, :confidence, :n, :now) ON CONFLICT (item_id) DO NOTHING"
)


class ItemEscalation(NamedTuple):
    stage: str
    reason: str
    resolved_at: Any  # None while open; else str on SQLite, datetime on PostgreSQL
    created_at: Any  # str on SQLite, datetime on PostgreSQL: read with Raw.time_out
    flagged_by: int | None


ITEM_ESCALATION = Query(
    "SELECT stage, reason, resolved_at, created_at, flagged_by FROM escalations "
    "WHERE item_id = :item",
    ItemEscalation,
)
# A contributor sends :item to the experts.
FLAG_ITEM = (
    "INSERT INTO escalations (item_id, project_id, reason, confidence, n_labels, created_at, "
    "stage, flagged_by) VALUES (:item, :project, :reason, :confidence, :n, :now, 'expert', :user)"
)


class ExpertCandidate(NamedTuple):
    item_id: int  # the key of the experts' queue's leases
    reason: str
    created_at: Any  # str on SQLite, datetime on PostgreSQL: where a walk goes on


# The experts' queue (loupe.services.labelling.escalations): open expert-stage items
# :user did not label and no one else holds.
EXPERT_CANDIDATES = Query(
    "SELECT e.item_id, e.reason, e.created_at FROM escalations e JOIN items i ON i.id = e.item_id "
    "WHERE e.project_id = :project AND e.resolved_at IS NULL AND e.stage = 'expert' "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id "
    "    AND a.user_id <> :user AND a.expires_at > :now)",
    ExpertCandidate,
)
# The queue's order is (created_at, item_id): where a walk goes on past a row.
EXPERT_AFTER = (
    " AND (e.created_at > :after_at OR (e.created_at = :after_at AND e.item_id > :after_item))"
)
OLDEST_ESCALATION = " ORDER BY e.created_at, e.item_id LIMIT 1"


class ExpertStillOpen(NamedTuple):
    found: int


# Under the item's row lock, in a statement of its own: a fresh snapshot.
EXPERT_STILL_OPEN = Query(
    "SELECT 1 FROM escalations e WHERE e.item_id = :item AND e.resolved_at IS NULL "
    "AND e.stage = 'expert' AND NOT EXISTS (SELECT 1 FROM assignments a "
    "WHERE a.item_id = e.item_id AND a.user_id <> :user AND a.expires_at > :now)",
    ExpertStillOpen,
)


class WaitingEscalations(NamedTuple):
    waiting: int


def expert_candidates_count(where: str) -> Query[WaitingEscalations]:
    """How many :data:`EXPERT_CANDIDATES` pass ``where`` (a condition starting with ``AND``)."""
    return Query(f"SELECT COUNT(*) FROM ({EXPERT_CANDIDATES.sql}{where}) q", WaitingEscalations)


# Open escalations of :project waiting for an adjudicator.
ADJUDICATION_WAITING = Query(
    "SELECT COUNT(*) FROM escalations WHERE project_id = :project "
    "AND resolved_at IS NULL AND stage = 'adjudicator'",
    WaitingEscalations,
)
PASS_UP = "UPDATE escalations SET stage = 'adjudicator', reason = :reason WHERE item_id = :item"
RESOLVE_ESCALATION = (
    "UPDATE escalations SET resolved_at = :now, resolved_by = :user, answer = :answer "
    "WHERE item_id = :item AND resolved_at IS NULL"
)
