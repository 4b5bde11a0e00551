"""Plain-SQL statements about the ``labels`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class ExportLabel(NamedTuple):
    item_id: int
    user_id: int
    answer: str  # JSON text
    created_at: Any  # str on SQLite, datetime on PostgreSQL: read with Raw.time_out


EXPORT_LABELS_OF_ITEMS = Query(
    "SELECT item_id, user_id, CAST(answer AS TEXT), created_at FROM labels "
    "WHERE project_id = :project AND item_id BETWEEN :first AND :last ORDER BY id",
    ExportLabel,
)


class StructuredLabelAnswer(NamedTuple):
    found: int


# A JSON string's text starts with a quote: any other answer makes the column JSON.
STRUCTURED_LABEL_ANSWER = Query(
    "SELECT 1 FROM labels WHERE project_id = :project "
    "AND CAST(answer AS TEXT) NOT LIKE '\"%' LIMIT 1",
    StructuredLabelAnswer,
)


class InsertedLabel(NamedTuple):
    id: int


INSERT_LABEL = Query(
    "INSERT INTO labels (project_id, item_id, user_id, answer, config_version, lead_time_ms, "
    "created_at) VALUES (:project, :item, :user, :answer, :version, :lead, :now) RETURNING id",
    InsertedLabel,
)
DELETE_LABEL = "DELETE FROM labels WHERE id = :label"


class UsersLabel(NamedTuple):
    id: int
    answer: Any  # JSON: read with Raw.json_out
    config_version: int
    lead_time_ms: int | None
    created_at: Any  # str on SQLite, datetime on PostgreSQL: read with Raw.time_out


# A user's label on an item (one at most).
USERS_LABEL_ON_ITEM = Query(
    "SELECT id, answer, config_version, lead_time_ms, created_at FROM labels "
    "WHERE item_id = :item AND user_id = :user",
    UsersLabel,
)


class ItemAnswer(NamedTuple):
    user_id: int
    answer: Any  # JSON: read with Raw.json_out


# Who gave which answer to an item, in the order they were given.
ITEM_ANSWERS = Query(
    "SELECT user_id, answer FROM labels WHERE item_id = :item ORDER BY id", ItemAnswer
)


class ItemLabelCount(NamedTuple):
    labels: int


ITEM_LABEL_COUNT = Query("SELECT count(*) FROM labels WHERE item_id = :item", ItemLabelCount)


class ReviewedAnswer(NamedTuple):
    answer: Any  # JSON: read with Raw.json_out
    accepts: int
    rejects: int


# Each label on an item with its reviewers' accepts and rejects, in label order.
ITEM_REVIEW_TALLY = Query(
    "SELECT l.answer, "
    "coalesce(sum(CASE WHEN r.verdict = 'accept' THEN 1 ELSE 0 END), 0), "
    "coalesce(sum(CASE WHEN r.verdict IS NOT NULL AND r.verdict <> 'accept' THEN 1 ELSE 0 END), 0) "
    "FROM labels l LEFT JOIN reviews r ON r.label_id = l.id WHERE l.item_id = :item "
    "GROUP BY l.id, l.answer ORDER BY l.id",
    ReviewedAnswer,
)


class RecentLabel(NamedTuple):
    lead_time_ms: int | None
    answer: Any  # JSON: read with Raw.json_out
    consensus_answer: Any  # JSON; None while the item has no consensus
    consensus_n_labels: int | None


# A user's latest labels in a project (at most :n), with their items' consensus.
USERS_RECENT_LABELS = Query(
    "SELECT l.lead_time_ms, l.answer, c.answer, c.n_labels FROM labels l "
    "LEFT JOIN consensus c ON c.item_id = l.item_id "
    "WHERE l.user_id = :user AND l.project_id = :project ORDER BY l.id DESC LIMIT :n",
    RecentLabel,
)


class ProjectLabel(NamedTuple):
    lead_time_ms: int | None
    answer: Any  # JSON: read with Raw.json_out


# A project's latest labels (at most :n).
PROJECT_RECENT_LABELS = Query(
    "SELECT lead_time_ms, answer FROM labels WHERE project_id = :project ORDER BY id DESC LIMIT :n",
    ProjectLabel,
)


class UserLabelled(NamedTuple):
    found: int


# A row when :user labelled :item.
USER_LABELLED_ITEM = Query(
    "SELECT 1 FROM labels WHERE item_id = :item AND user_id = :user", UserLabelled
)


class OtherAnswer(NamedTuple):
    answer: Any  # JSON: read with Raw.json_out


# The other labels' answers on :item (all but label :label), oldest first.
OTHER_ANSWERS_ON_ITEM = Query(
    "SELECT answer FROM labels WHERE item_id = :item AND id <> :label ORDER BY id", OtherAnswer
)


class OwnLabel(NamedTuple):
    id: int
    answer: Any  # JSON: read with Raw.json_out
    created_at: Any  # str on SQLite, datetime on PostgreSQL: read with Raw.time_out


# :user's label on :item, for an undo.
OWN_LABEL_TO_UNDO = Query(
    "SELECT id, answer, created_at FROM labels WHERE item_id = :item AND user_id = :user",
    OwnLabel,
)
