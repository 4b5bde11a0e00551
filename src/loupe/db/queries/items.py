"""Plain-SQL statements about the ``items`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class CocoImage(NamedTuple):
    id: int
    external_id: str
    sha256: str
    mime: str
    width: int | None
    height: int | None
    answer: str | None  # the consensus answer's JSON text


# A COCO export's page of images: the item's media part in ``:field`` and its consensus.
COCO_IMAGES = Query(
    "SELECT i.id, i.external_id, m.sha256, m.mime, m.width, m.height, CAST(c.answer AS TEXT) "
    "FROM items i JOIN item_media m ON m.item_id = i.id AND m.field = :field "
    "LEFT JOIN consensus c ON c.item_id = i.id "
    "WHERE i.project_id = :project AND i.withheld = :false AND i.is_gold = :false "
    "AND i.id > :after ORDER BY i.id LIMIT :limit",
    CocoImage,
)


class ItemDataText(NamedTuple):
    id: int
    data: str  # JSON text


ITEM_DATA_PAGE = Query(
    "SELECT id, CAST(data AS TEXT) FROM items "
    "WHERE project_id = :project AND id > :after ORDER BY id LIMIT :limit",
    ItemDataText,
)


class ExportItem(NamedTuple):
    id: int
    external_id: str
    language: str | None
    domain: str
    sensitivity: str
    withheld: int  # a bool; 0 or 1 on SQLite
    data: str  # JSON text
    metadata: str  # JSON text


EXPORT_ITEMS_PAGE = Query(
    "SELECT id, external_id, language, domain, sensitivity, withheld, "
    "CAST(data AS TEXT), CAST(metadata AS TEXT) FROM items "
    "WHERE project_id = :project AND id > :after ORDER BY id LIMIT :limit",
    ExportItem,
)


class ItemId(NamedTuple):
    id: int


def routed_item_ids(routing: str) -> Query[ItemId]:
    """A page of the project's item ids (after ``:after``, at most ``:limit``) that pass
    ``routing``, a condition over ``items i`` starting with ``AND``
    (:func:`loupe.services.people.eligibility.item_filter`)."""
    return Query(
        "SELECT i.id FROM items i WHERE i.project_id = :project AND i.id > :after"
        + routing
        + " ORDER BY i.id LIMIT :limit",
        ItemId,
    )


class ItemForSubmit(NamedTuple):
    project_id: int
    label_count: int
    domain: str
    is_gold: int  # a bool; 0 or 1 on SQLite
    min_level: int
    is_complete: int  # a bool; 0 or 1 on SQLite
    language: str | None
    sensitivity: str


# The item a label is submitted for (the submit locks it: ``.locked``).
ITEM_FOR_SUBMIT = Query(
    "SELECT project_id, label_count, domain, is_gold, min_level, is_complete, language, "
    "sensitivity FROM items WHERE id = :item",
    ItemForSubmit,
)


class ItemData(NamedTuple):
    data: Any  # JSON: read with Raw.json_out


ITEM_DATA = Query("SELECT data FROM items WHERE id = :item", ItemData)


class ItemMetadata(NamedTuple):
    metadata: Any  # JSON: read with Raw.json_out
    is_gold: int  # a bool; 0 or 1 on SQLite


ITEM_METADATA = Query("SELECT metadata, is_gold FROM items WHERE id = :item", ItemMetadata)
SET_ITEM_METADATA = "UPDATE items SET metadata = :meta WHERE id = :item"
# The one write of an item's label counters (see loupe.services.labelling.lifecycle).
SET_LABEL_COUNT_AND_COMPLETE = (
    "UPDATE items SET label_count = :count, is_complete = :complete WHERE id = :item"
)
SET_LABEL_COUNT = "UPDATE items SET label_count = :count WHERE id = :item"
CLOSE_ITEM = "UPDATE items SET is_complete = :true WHERE id = :item"


class ItemRequirements(NamedTuple):
    domain: str
    language: str | None
    sensitivity: str
    min_level: int
    project_id: int


ITEM_REQUIREMENTS = Query(
    "SELECT domain, language, sensitivity, min_level, project_id FROM items WHERE id = :item",
    ItemRequirements,
)


def _open_item(alias: str) -> str:
    # "Open" is spelled with literals, as in the partial index ix_items_open's
    # predicate, so that both planners can prove the index applies (a bound :false
    # would hide it).
    return f"NOT {alias}.is_complete AND NOT {alias}.withheld AND NOT {alias}.is_gold"


def _first_open_item(alias: str) -> str:
    # An ordered scan of ix_items_open that stops at one row.
    return (
        f"SELECT {alias}.id FROM items {alias} WHERE {alias}.project_id = :project "
        f"AND {_open_item(alias)} AND {alias}.id > :after ORDER BY {alias}.id LIMIT 1"
    )


class QueuedItem(NamedTuple):
    item_id: int  # items.id: the key of the task queue's leases


# The task queue (loupe.services.labelling.tasks). Where its window after :after starts.
FIRST_OPEN_ITEM = Query(_first_open_item("i"), QueuedItem)
# Open items under the overlap (:overlap) that :user neither labelled nor skipped.
TASK_CANDIDATES = Query(
    "SELECT i.id FROM items i "
    f"WHERE i.project_id = :project AND {_open_item('i')} "
    "AND i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id "
    "    AND a.expires_at > :now AND a.user_id <> :user) < :overlap "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :user)",
    QueuedItem,
)
# The window: :window ids from the first open item past :after (an InitPlan, planned on
# its own; the statement needs no round trip of its own to find it).
TASK_IN_WINDOW = f" AND i.id > :after AND i.id < ({_first_open_item('f')}) + :window"
FIRST_BY_ITEM_ID = " ORDER BY i.id LIMIT 1"


class TaskStillOpen(NamedTuple):
    found: int


# Under the item's row lock, in a statement of its own: a fresh snapshot.
TASK_STILL_OPEN = Query(
    "SELECT 1 FROM items i WHERE i.id = :item AND NOT i.is_complete "
    "AND i.label_count + (SELECT count(*) FROM assignments a "
    "WHERE a.item_id = i.id AND a.expires_at > :now AND a.user_id <> :user) < :overlap",
    TaskStillOpen,
)
# Gold items are offered to everyone (outside the overlap) until they answered them.
GOLD_CANDIDATES = Query(
    "SELECT i.id FROM items i "
    "WHERE i.project_id = :project AND i.is_gold = :true AND i.withheld = :false "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :user)",
    QueuedItem,
)


class LockedItem(NamedTuple):
    id: int


# Locks item :item, waiting for its holder.
LOCK_ITEM = Query("SELECT id FROM items WHERE id = :item FOR UPDATE", LockedItem)


class ItemForTask(NamedTuple):
    external_id: str
    data: Any  # JSON: read with Raw.json_out
    language: str | None
    domain: str
    project_id: int


# What a task shows of its item.
ITEM_FOR_TASK = Query(
    "SELECT external_id, data, language, domain, project_id FROM items WHERE id = :item",
    ItemForTask,
)


class RoutingNeeds(NamedTuple):
    domain: str
    language: str | None
    sensitivity: str
    min_level: int


# What routing asks of whoever receives the item.
ITEM_ROUTING_NEEDS = Query(
    "SELECT domain, language, sensitivity, min_level FROM items WHERE id = :item", RoutingNeeds
)


class ItemForTake(NamedTuple):
    project_id: int
    is_gold: int  # a bool; 0 or 1 on SQLite
    withheld: int  # a bool; 0 or 1 on SQLite
    is_complete: int  # a bool; 0 or 1 on SQLite
    label_count: int


# An item a manager chooses to label (the take locks it: ``.locked``).
ITEM_FOR_TAKE = Query(
    "SELECT project_id, is_gold, withheld, is_complete, label_count FROM items WHERE id = :item",
    ItemForTake,
)


class ItemForEscalation(NamedTuple):
    project_id: int
    label_count: int
    domain: str
    data: Any  # JSON: read with Raw.json_out
    is_complete: int  # a bool; 0 or 1 on SQLite
    is_gold: int  # a bool; 0 or 1 on SQLite
    external_id: str
    language: str | None


# An item on (or going up) the escalation ladder (locked there: ``.locked``).
ITEM_FOR_ESCALATION = Query(
    "SELECT project_id, label_count, domain, data, is_complete, is_gold, external_id, language "
    "FROM items WHERE id = :item",
    ItemForEscalation,
)


class ItemForUndo(NamedTuple):
    project_id: int
    label_count: int


# The item whose label is undone (the undo locks it: ``.locked``).
ITEM_FOR_UNDO = Query("SELECT project_id, label_count FROM items WHERE id = :item", ItemForUndo)
