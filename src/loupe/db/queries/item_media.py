"""Plain-SQL statements about the ``item_media`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from loupe.db.raw import Query


class ExportMedia(NamedTuple):
    item_id: int
    field: str
    sha256: str
    mime: str
    width: int | None
    height: int | None
    kind: str
    duration_ms: int | None
    sample_rate: int | None


# Media by reference (the served, gated blob), never bytes: fetch it with a token that
# may read the item (GET /api/v1/media/<sha256>, or the SDK's download_media).
EXPORT_MEDIA_OF_ITEMS = Query(
    "SELECT item_id, field, sha256, mime, width, height, kind, duration_ms, sample_rate "
    "FROM item_media WHERE project_id = :project AND item_id BETWEEN :first AND :last "
    "ORDER BY item_id, id",
    ExportMedia,
)


class MediaPart(NamedTuple):
    item_id: int
    field: str
    kind: str
    mime: str
    sha256: str
    width: int | None
    height: int | None
    regions: Any  # JSON: read with Raw.json_out
    duration_ms: int | None
    sample_rate: int | None
    project_id: int


def media_of_items(params: Iterable[str]) -> Query[MediaPart]:
    """The media parts of the items whose ids are bound to ``params`` (parameter names),
    in the order they were imported."""
    return Query(
        "SELECT item_id, field, kind, mime, sha256, width, height, regions, duration_ms, "
        "sample_rate, project_id FROM item_media WHERE item_id IN ("
        + ", ".join(":" + name for name in params)
        + ") ORDER BY item_id, id",
        MediaPart,
    )


class WorkedOnMedia(NamedTuple):
    project_id: int
    item_id: int
    mime: str
    bytes: int
    kind: str
    field: str


# Items carrying the blob that the actor works on: a live lease (a task, or an expert's
# escalated item), their own label, or a live review lease on one of the item's labels.
# Withheld items are never served to contributors.
MEDIA_WORKED_ON = Query(
    "SELECT m.project_id, m.item_id, m.mime, m.bytes, m.kind, m.field FROM item_media m "
    "JOIN items i ON i.id = m.item_id "
    "WHERE m.sha256 = :sha AND i.withheld = :false AND ("
    " EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = m.item_id AND a.user_id = :user"
    "   AND a.expires_at > :now)"
    " OR EXISTS (SELECT 1 FROM labels l WHERE l.item_id = m.item_id AND l.user_id = :user)"
    " OR EXISTS (SELECT 1 FROM review_leases rl JOIN review_queue q ON q.label_id = rl.label_id"
    "   WHERE q.item_id = m.item_id AND rl.user_id = :user AND rl.expires_at > :now)"
    ") ORDER BY m.item_id LIMIT 16",
    WorkedOnMedia,
)


class BlobProject(NamedTuple):
    project_id: int


PROJECTS_WITH_BLOB = Query(
    "SELECT DISTINCT project_id FROM item_media WHERE sha256 = :sha", BlobProject
)


class BlobInProject(NamedTuple):
    mime: str
    bytes: int
    kind: str
    item_id: int
    field: str


# Filters for blob_in_project: conditions over ``items i``.
NOT_WITHHELD = " AND i.withheld = :false"


def withheld_if_cleared(ladder: Sequence[str]) -> str:
    """A filter for blob_in_project: an item not withheld, or one ``:user`` holds a live
    clearance for in its project, for its class or a higher one on ``ladder`` (the
    classes, lowest first; a clearance not on it, such as ``voice``, never counts, and an
    item of a class not on it is never cleared)."""

    def rank(column: str, unknown: int) -> str:
        ranks = " ".join(f"WHEN '{name}' THEN {rank}" for rank, name in enumerate(ladder))
        return f"(CASE {column} {ranks} ELSE {unknown} END)"

    return (
        " AND (i.withheld = :false OR EXISTS (SELECT 1 FROM clearances c"
        " WHERE c.user_id = :user AND c.project_id = i.project_id"
        " AND (c.expires_at IS NULL OR c.expires_at > :now)"
        f" AND {rank('c.sensitivity', -1)} >= {rank('i.sensitivity', len(ladder))}))"
    )


def blob_in_project(filters: str = "") -> Query[BlobInProject]:
    """A part carrying the blob ``:sha`` in project ``:project``, of an item passing
    ``filters`` (conditions over ``items i``, each starting with ``AND``)."""
    return Query(
        "SELECT m.mime, m.bytes, m.kind, m.item_id, m.field FROM item_media m "
        "JOIN items i ON i.id = m.item_id WHERE m.sha256 = :sha AND m.project_id = :project"
        + filters
        + " LIMIT 1",
        BlobInProject,
    )


class ImageSize(NamedTuple):
    width: int | None
    height: int | None


IMAGE_SIZE = Query(
    "SELECT width, height FROM item_media WHERE item_id = :item AND field = :field", ImageSize
)


class AudioDuration(NamedTuple):
    duration_ms: int | None


AUDIO_DURATION = Query(
    "SELECT duration_ms FROM item_media WHERE item_id = :item AND field = :field", AudioDuration
)


class AudioLength(NamedTuple):
    audio_ms: int


AUDIO_MS_OF_ITEM = Query(
    "SELECT coalesce(sum(duration_ms), 0) FROM item_media WHERE item_id = :item AND kind = 'audio'",
    AudioLength,
)
