"""Plain-SQL statements about the ``review_queue`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query

ENQUEUE_REVIEW = (
    "INSERT INTO review_queue (label_id, project_id, item_id, labeller_id, needed, n_reviews, "
    "status, created_at) VALUES (:label, :project, :item, :user, :needed, 0, 'pending', :now)"
)


class QueuedLabel(NamedTuple):
    label_id: int  # the key of the review queue's leases


# The review queue (loupe.services.labelling.reviews): pending labels :user may judge,
# with a review slot no other lease holds.
REVIEW_CANDIDATES = Query(
    "SELECT q.label_id FROM review_queue q JOIN items i ON i.id = q.item_id "
    "WHERE q.project_id = :project AND q.status = 'pending' AND q.labeller_id <> :user "
    "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.label_id = q.label_id "
    "    AND r.reviewer_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = q.item_id AND l.user_id = :user) "
    "AND q.n_reviews + (SELECT count(*) FROM review_leases rl WHERE rl.label_id = q.label_id "
    "    AND rl.user_id <> :user AND rl.expires_at > :now) < q.needed",
    QueuedLabel,
)
REVIEW_AFTER = " AND q.label_id > :after"
FIRST_BY_LABEL_ID = " ORDER BY q.label_id LIMIT 1"


class ReviewStillOpen(NamedTuple):
    found: int


# Under the row lock, in a statement of its own: a fresh snapshot.
REVIEW_STILL_OPEN = Query(
    "SELECT 1 FROM review_queue q WHERE q.label_id = :label AND q.status = 'pending' "
    "AND q.n_reviews + (SELECT count(*) FROM review_leases rl WHERE rl.label_id = q.label_id "
    "    AND rl.user_id <> :user AND rl.expires_at > :now) < q.needed",
    ReviewStillOpen,
)


class LockedQueuedLabel(NamedTuple):
    label_id: int


# Locks label :label's queue row, waiting for its holder.
LOCK_QUEUED_LABEL = Query(
    "SELECT label_id FROM review_queue WHERE label_id = :label FOR UPDATE", LockedQueuedLabel
)


class ReviewedItem(NamedTuple):
    item_id: int


# The item whose label :label waits in :project's queue (read before locking the item).
ITEM_OF_QUEUED_LABEL = Query(
    "SELECT item_id FROM review_queue WHERE label_id = :label AND project_id = :project",
    ReviewedItem,
)


class ReviewTask(NamedTuple):
    item_id: int
    labeller_id: int
    status: str
    n_reviews: int
    needed: int
    answer: Any  # the label's, JSON: read with Raw.json_out
    external_id: str
    data: Any  # JSON: read with Raw.json_out
    language: str | None
    domain: str
    is_gold: int  # a bool; 0 or 1 on SQLite
    label_count: int
    user_id: int  # the label's


# A label's queue row in :project, joined to the label and its item.
REVIEW_TASK = Query(
    "SELECT q.item_id, q.labeller_id, q.status, q.n_reviews, q.needed, l.answer, i.external_id, "
    "i.data, i.language, i.domain, i.is_gold, i.label_count, l.user_id "
    "FROM review_queue q JOIN labels l ON l.id = q.label_id JOIN items i ON i.id = q.item_id "
    "WHERE q.label_id = :label AND q.project_id = :project",
    ReviewTask,
)
# The same, the queue row locked (PostgreSQL).
REVIEW_TASK_LOCKED = Query(REVIEW_TASK.sql + " FOR UPDATE OF q", ReviewTask)
COUNT_REVIEW = "UPDATE review_queue SET n_reviews = :n WHERE label_id = :label"
DECIDE_REVIEW = "UPDATE review_queue SET status = :status WHERE label_id = :label"
