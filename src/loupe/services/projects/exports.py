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
from loupe.db.queries.consensus import EXPORT_CONSENSUS_OF_ITEMS, STRUCTURED_CONSENSUS_ANSWER
from loupe.db.queries.item_media import EXPORT_MEDIA_OF_ITEMS
from loupe.db.queries.items import COCO_IMAGES, EXPORT_ITEMS_PAGE, ITEM_DATA_PAGE
from loupe.db.queries.labels import EXPORT_LABELS_OF_ITEMS, STRUCTURED_LABEL_ANSWER, ExportLabel
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
        COCO_IMAGES, project=project_id, field=field, false=False, after=last, limit=chunk_size
    ):
        last = rows[-1].id
        for image in rows:
            images.append(
                {
                    "id": image.id,
                    "file_name": f"{image.sha256}.{_EXTENSIONS.get(image.mime, 'bin')}",
                    "width": image.width,
                    "height": image.height,
                    "sha256": image.sha256,
                    "url": media_url(image.sha256),
                    "loupe_id": image.external_id,
                }
            )
            value = None if image.answer is None else json.loads(image.answer)
            if value is None:
                continue
            if isinstance(task, Boxes):
                boxes[image.id] = list(value)
            else:
                classes[image.id] = [value] if isinstance(value, str) else list(value)
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


def parquet_layout(
    session: Session, project_id: int, *, text_field: str, chunk_size: int
) -> ParquetLayout:
    """The Parquet columns of a project's items: one pass over their data (keyset
    chunks, so in constant memory) for the data fields and their types, and a look for
    any answer that is not a plain string."""
    raw = Raw(session)
    columns = DataColumns()
    last = 0
    while rows := raw.all(ITEM_DATA_PAGE, project=project_id, after=last, limit=chunk_size):
        last = rows[-1].id
        for row in rows:
            columns.add(json.loads(row.data))
    structured = bool(
        raw.all(STRUCTURED_LABEL_ANSWER, project=project_id)
        or raw.all(STRUCTURED_CONSENSUS_ANSWER, project=project_id)
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
        items = raw.all(EXPORT_ITEMS_PAGE, project=project_id, after=last, limit=chunk_size)
        if not items:
            return
        first, last = items[0].id, items[-1].id
        window = {"project": project_id, "first": first, "last": last}
        consensus = {vote.item_id: vote for vote in raw.all(EXPORT_CONSENSUS_OF_ITEMS, **window)}
        labels: dict[int, list[ExportLabel]] = defaultdict(list)
        if with_labels:
            for label in raw.all(EXPORT_LABELS_OF_ITEMS, **window):
                labels[label.item_id].append(label)
        media: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if with_media:
            for part in raw.all(EXPORT_MEDIA_OF_ITEMS, **window):
                media[part.item_id].append(
                    {
                        "field": part.field,
                        "uri": media_url(part.sha256),
                        "sha256": part.sha256,
                        "mime": part.mime,
                        "width": part.width,
                        "height": part.height,
                        "kind": part.kind,
                        "duration_ms": part.duration_ms,
                        "sample_rate": part.sample_rate,
                    }
                )
        for item in items:
            vote = consensus.get(item.id)
            row: dict[str, Any] = {"id": item.external_id, "item_id": item.id}
            if with_labels:
                given = labels.get(item.id, [])
                distribution, entropy = _distribution([label.answer for label in given])
                row |= {
                    "language": item.language,
                    "domain": item.domain,
                    "sensitivity": item.sensitivity,
                    "withheld": bool(item.withheld),
                    "data": RawJSON(item.data),
                    "metadata": RawJSON(item.metadata),
                    "labels": [
                        {
                            "annotator": label.user_id,
                            "answer": RawJSON(label.answer),
                            "created_at": raw.time_out(label.created_at).isoformat(),
                        }
                        for label in given
                    ],
                    "distribution": distribution,
                    "entropy": entropy,
                }
                if with_media:
                    # A withheld item is shown to nobody: its image is not even named.
                    row["media"] = [] if item.withheld else media.get(item.id, [])
            elif vote is None:
                continue
            row |= {
                "answer": RawJSON(vote.answer) if vote else None,
                "support": vote.support if vote else 0,
                "n_labels": vote.n_labels if vote else 0,
                "confidence": vote.confidence if vote else None,
            }
            if not with_labels and vote is not None:
                row["method"] = vote.method
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
