"""Exports of items, raw labels and consensus, streamed in constant memory.

Rows are read in keyset-paginated chunks (``id > last``) inside one read-only
transaction, so an export is a consistent snapshot and never holds more than
one chunk in memory, whatever the project's size.

Exports carry what the privacy gate stored for annotators (redacted data), never
the sealed originals; erased and purged items are gone from them. Every export is
audited when it is requested, in a transaction of its own (exports read in
read-only transactions).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Hashable, Iterator
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Item, Label
from loupe.db.raw import Raw
from loupe.errors import InvalidInput
from loupe.formats import RawJSON
from loupe.formats_labelstudio import export_task
from loupe.formats_parquet import DataColumns, ParquetLayout, parquet_chunks, require_pyarrow
from loupe.label_schema import Boxes, LabelSchema, MultiChoice, SingleChoice
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.projects.definition import project_schema
from loupe.services.projects.media_views import media_url

__all__ = [
    "COLUMNS",
    "KINDS",
    "ExportKind",
    "check_coco_export",
    "check_export",
    "check_labelstudio_export",
    "check_parquet_export",
    "coco_export",
    "iter_export",
    "iter_labelstudio",
    "iter_parquet",
    "parquet_layout",
]

ExportKind = Literal["items", "labels", "consensus"]
KINDS: tuple[ExportKind, ...] = get_args(ExportKind)

COLUMNS: dict[ExportKind, list[str]] = {
    "items": [
        "id",
        "item_id",
        "language",
        "domain",
        "data",
        "metadata",
        "labels",
        "answer",
        "support",
        "n_labels",
        "confidence",
        "distribution",
        "entropy",
        "sensitivity",
        "withheld",
        "media",
    ],
    "labels": [
        "label_id",
        "id",
        "item_id",
        "annotator",
        "answer",
        "config_version",
        "lead_time_ms",
        "created_at",
    ],
    "consensus": ["id", "item_id", "answer", "support", "n_labels", "confidence", "method"],
}


def check_export(session: Session, actor: Actor, project_id: int, kind: str) -> ExportKind:
    authorize_project(session, actor, "exports.run", project_id)
    if kind not in KINDS:
        raise InvalidInput(
            f"kind: {kind!r} is not an export; use one of {', '.join(KINDS)}",
            details={"field": "kind", "allowed": list(KINDS)},
        )
    _audit_export(session, actor, project_id, kind)
    return kind


def _audit_export(
    session: Session, actor: Actor, project_id: int, kind: str, *, fmt: str | None = None
) -> None:
    """Record the export request (in a transaction of its own: exports only read)."""
    audit_log.record_separately(
        session,
        actor,
        "export.run",
        project_id=project_id,
        target=f"project:{project_id}",
        details={"kind": kind} | ({"format": fmt} if fmt else {}),
    )


def check_labelstudio_export(session: Session, actor: Actor, project_id: int) -> LabelSchema:
    """Authorise and audit a Label Studio export (the ``items`` export, converted)."""
    project = authorize_project(session, actor, "exports.run", project_id)
    _audit_export(session, actor, project_id, "labelstudio")
    return project_schema(project)


def check_coco_export(session: Session, actor: Actor, project_id: int) -> LabelSchema:
    """Authorise and audit a COCO export: a project of images whose task is boxes or an
    image classification (single or multiple choice over a media field)."""
    project = authorize_project(session, actor, "exports.run", project_id)
    schema = project_schema(project)
    if not schema.media_fields() or not isinstance(schema.task, Boxes | SingleChoice | MultiChoice):
        raise InvalidInput(
            f"format: COCO exports images with boxes or classes; project {project_id} "
            f"has {'no media fields' if not schema.media_fields() else schema.task.type + ' tasks'}"
            " (use jsonl, csv or parquet)",
            details={"field": "format", "allowed": ["jsonl", "csv", "parquet"]},
        )
    _audit_export(session, actor, project_id, "items", fmt="coco")
    return schema


_COCO_ITEMS = (
    "SELECT i.id, i.external_id, m.sha256, m.mime, m.width, m.height, CAST(c.answer AS TEXT) "
    "FROM items i JOIN item_media m ON m.item_id = i.id AND m.field = :field "
    "LEFT JOIN consensus c ON c.item_id = i.id "
    "WHERE i.project_id = :project AND i.withheld = :false AND i.is_gold = :false "
    "AND i.id > :after ORDER BY i.id LIMIT :limit"
)
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def coco_export(
    session: Session, project_id: int, schema: LabelSchema, *, chunk_size: int
) -> dict[str, Any]:
    """The project's images and their consensus as one COCO document
    (:func:`loupe.formats_coco.coco_document`); call :func:`check_coco_export` first.

    Images are the gated blobs (``file_name`` is ``<sha256>.<ext>``, with ``sha256`` and
    ``url`` to fetch them); withheld and gold items are left out. Boxes come from a boxes
    task's consensus, image classes from a classification's. The document is one JSON
    object, built in memory (about 300 bytes per image and per box)."""
    from loupe.formats_coco import coco_document

    task = schema.task
    assert isinstance(task, Boxes | SingleChoice | MultiChoice)
    field = task.media_field if isinstance(task, Boxes) else schema.media_fields()[0]
    raw = Raw(session)
    images: list[dict[str, Any]] = []
    # Keyed by item id (the image's id); typed as coco_document reads them.
    boxes: dict[Hashable, list[dict[str, Any]]] = {}
    classes: dict[Hashable, list[str]] = {}
    last = 0
    while rows := raw.all(
        _COCO_ITEMS, project=project_id, field=field, false=False, after=last, limit=chunk_size
    ):
        last = rows[-1][0]
        for item_id, external_id, sha, mime, width, height, answer in rows:
            images.append(
                {
                    "id": item_id,
                    "file_name": f"{sha}.{_EXTENSIONS.get(mime, 'bin')}",
                    "width": width,
                    "height": height,
                    "sha256": sha,
                    "url": media_url(sha),
                    "loupe_id": external_id,
                }
            )
            value = None if answer is None else json.loads(answer)
            if value is None:
                continue
            if isinstance(task, Boxes):
                boxes[item_id] = list(value)
            else:
                classes[item_id] = [value] if isinstance(value, str) else list(value)
    return coco_document(
        images,
        [option.key for option in task.labels],
        boxes,
        classes,
        description=f"Loupe project {project_id}: consensus of {field!r}",
    )


def check_parquet_export(session: Session, actor: Actor, project_id: int, kind: str) -> str:
    """Authorise and audit a Parquet export: the ``items`` export, one row per item
    (:mod:`loupe.formats_parquet`); refused when the ``parquet`` extra is missing."""
    project = authorize_project(session, actor, "exports.run", project_id)
    if kind != "items":
        raise InvalidInput(
            f"kind: the Parquet export is of items (labels and consensus are columns of "
            f"it), not {kind!r}",
            details={"field": "kind", "allowed": ["items"]},
        )
    require_pyarrow()
    _audit_export(session, actor, project_id, "items", fmt="parquet")
    return project_schema(project).text_field


_DATA = (
    "SELECT id, CAST(data AS TEXT) FROM items "
    "WHERE project_id = :project AND id > :after ORDER BY id LIMIT :limit"
)
# A JSON string's text starts with a quote: any other answer makes the column JSON.
_STRUCTURED_ANSWER = (
    "SELECT 1 FROM {table} WHERE project_id = :project "
    "AND CAST(answer AS TEXT) NOT LIKE '\"%' LIMIT 1"
)


def parquet_layout(
    session: Session, project_id: int, *, text_field: str, chunk_size: int
) -> ParquetLayout:
    """The Parquet columns of a project's items: one pass over their data (keyset
    chunks, so in constant memory) for the data fields and their types, and a look for
    any answer that is not a plain string."""
    raw = Raw(session)
    columns = DataColumns()
    last = 0
    while rows := raw.all(_DATA, project=project_id, after=last, limit=chunk_size):
        last = rows[-1][0]
        for _, data in rows:
            columns.add(json.loads(data))
    structured = any(
        raw.all(_STRUCTURED_ANSWER.format(table=table), project=project_id)
        for table in ("labels", "consensus")
    )
    return ParquetLayout(
        data=columns.columns(text_field=text_field), answer="json" if structured else "string"
    )


def iter_parquet(
    session: Session, project_id: int, layout: ParquetLayout, *, chunk_size: int
) -> Iterator[bytes]:
    """The Parquet file of the ``items`` export, a row group at a time: the very rows
    of the JSONL export, so the same redacted data; call :func:`check_parquet_export`
    and :func:`parquet_layout` first."""
    rows = _items(session, project_id, chunk_size, with_labels=True, with_media=True)
    yield from parquet_chunks(rows, layout)


def iter_labelstudio(
    session: Session, project_id: int, schema: LabelSchema, *, chunk_size: int
) -> Iterator[dict[str, Any]]:
    """Label Studio tasks (:func:`loupe.formats_labelstudio.export_task`) built from the
    ``items`` export rows: the same redacted data; call :func:`check_labelstudio_export`
    first."""
    for row in _items(session, project_id, chunk_size, with_labels=True):
        yield export_task(row, schema)


def iter_export(
    session: Session, project_id: int, kind: ExportKind, *, chunk_size: int
) -> Iterator[dict[str, Any]]:
    """Yield export rows; call :func:`check_export` first."""
    if kind == "labels":
        yield from _labels(session, project_id, chunk_size)
    else:
        items = kind == "items"
        yield from _items(session, project_id, chunk_size, with_labels=items, with_media=items)


_ITEMS = (
    "SELECT id, external_id, language, domain, sensitivity, withheld, "
    "CAST(data AS TEXT), CAST(metadata AS TEXT) FROM items "
    "WHERE project_id = :project AND id > :after ORDER BY id LIMIT :limit"
)
_CONSENSUS = (
    "SELECT item_id, CAST(answer AS TEXT), support, n_labels, confidence, method FROM consensus "
    "WHERE project_id = :project AND item_id BETWEEN :first AND :last"
)
# Media by reference (the served, gated blob), never bytes: fetch it with a token that
# may read the item (GET /api/v1/media/<sha256>, or the SDK's download_media).
_ITEM_MEDIA = (
    "SELECT item_id, field, sha256, mime, width, height, kind, duration_ms, sample_rate "
    "FROM item_media WHERE project_id = :project AND item_id BETWEEN :first AND :last "
    "ORDER BY item_id, id"
)
_ITEM_LABELS = (
    "SELECT item_id, user_id, CAST(answer AS TEXT), created_at FROM labels "
    "WHERE project_id = :project AND item_id BETWEEN :first AND :last ORDER BY id"
)


def _distribution(answers: list[str]) -> tuple[dict[str, int], float]:
    """Answer counts (keys: the answer's JSON text, or the label itself for a
    single choice) and their entropy in bits: disagreement kept as a signal."""
    counts: dict[str, int] = {}
    for text in answers:
        key = text[1:-1] if text.startswith('"') and "\\" not in text else text
        counts[key] = counts.get(key, 0) + 1
    n = len(answers)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0
    return counts, round(entropy + 0.0, 6)


def _items(
    session: Session,
    project_id: int,
    chunk_size: int,
    *,
    with_labels: bool,
    with_media: bool = False,
) -> Iterator[dict[str, Any]]:
    # Plain SQL with JSON columns read as text and spliced into the output unparsed
    # (RawJSON): 100,000 items with labels export in seconds (docs/benchmarks.md).
    raw = Raw(session)
    last = 0
    while True:
        items = raw.all(_ITEMS, project=project_id, after=last, limit=chunk_size)
        if not items:
            return
        first, last = items[0][0], items[-1][0]
        window = {"project": project_id, "first": first, "last": last}
        consensus = {row[0]: row for row in raw.all(_CONSENSUS, **window)}
        labels: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        if with_labels:
            for label in raw.all(_ITEM_LABELS, **window):
                labels[label[0]].append(label)
        media: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if with_media:
            for part in raw.all(_ITEM_MEDIA, **window):
                media[part[0]].append(
                    {
                        "field": part[1],
                        "uri": media_url(part[2]),
                        "sha256": part[2],
                        "mime": part[3],
                        "width": part[4],
                        "height": part[5],
                        "kind": part[6],
                        "duration_ms": part[7],
                        "sample_rate": part[8],
                    }
                )
        for item_id, external, language, domain, sensitivity, withheld, data, meta in items:
            vote = consensus.get(item_id)
            row: dict[str, Any] = {"id": external, "item_id": item_id}
            if with_labels:
                given = labels.get(item_id, [])
                distribution, entropy = _distribution([label[2] for label in given])
                row |= {
                    "language": language,
                    "domain": domain,
                    "sensitivity": sensitivity,
                    "withheld": bool(withheld),
                    "data": RawJSON(data),
                    "metadata": RawJSON(meta),
                    "labels": [
                        {
                            "annotator": label[1],
                            "answer": RawJSON(label[2]),
                            "created_at": raw.time_out(label[3]).isoformat(),
                        }
                        for label in given
                    ],
                    "distribution": distribution,
                    "entropy": entropy,
                }
                if with_media:
                    # A withheld item is shown to nobody: its image is not even named.
                    row["media"] = [] if withheld else media.get(item_id, [])
            elif vote is None:
                continue
            row |= {
                "answer": RawJSON(vote[1]) if vote else None,
                "support": vote[2] if vote else 0,
                "n_labels": vote[3] if vote else 0,
                "confidence": vote[4] if vote else None,
            }
            if not with_labels and vote is not None:
                row["method"] = vote[5]
            yield row


def _labels(session: Session, project_id: int, chunk_size: int) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = session.execute(
            select(
                Label.id,
                Label.item_id,
                Item.external_id,
                Label.user_id,
                Label.answer,
                Label.config_version,
                Label.lead_time_ms,
                Label.created_at,
            )
            .join(Item, Item.id == Label.item_id)
            .where(Label.project_id == project_id, Label.id > last)
            .order_by(Label.id)
            .limit(chunk_size)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        for row in rows:
            yield {
                "label_id": row.id,
                "id": row.external_id,
                "item_id": row.item_id,
                "annotator": row.user_id,
                "answer": row.answer,
                "config_version": row.config_version,
                "lead_time_ms": row.lead_time_ms,
                "created_at": row.created_at.isoformat(),
            }
