"""Exports of items, raw labels and consensus, streamed in constant memory.

Rows are read in keyset-paginated chunks (``id > last``) inside one read-only
transaction, so an export is a consistent snapshot and never holds more than
one chunk in memory, whatever the project's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Consensus, Item, Label
from loupe.errors import InvalidInput
from loupe.services.access import Actor, authorize_project

__all__ = ["COLUMNS", "KINDS", "ExportKind", "check_export", "iter_export"]

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
    return kind


def iter_export(
    session: Session, project_id: int, kind: ExportKind, *, chunk_size: int
) -> Iterator[dict[str, Any]]:
    """Yield export rows; call :func:`check_export` first."""
    if kind == "labels":
        yield from _labels(session, project_id, chunk_size)
    else:
        yield from _items(session, project_id, chunk_size, with_labels=kind == "items")


def _items(
    session: Session, project_id: int, chunk_size: int, *, with_labels: bool
) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        items = session.execute(
            select(Item.id, Item.external_id, Item.language, Item.domain, Item.data, Item.meta)
            .where(Item.project_id == project_id, Item.id > last)
            .order_by(Item.id)
            .limit(chunk_size)
        ).all()
        if not items:
            return
        first, last = items[0].id, items[-1].id
        consensus = {
            row.item_id: row
            for row in session.execute(
                select(Consensus).where(
                    Consensus.project_id == project_id,
                    Consensus.item_id.between(first, last),
                )
            ).scalars()
        }
        labels: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if with_labels:
            for label in session.execute(
                select(Label.item_id, Label.user_id, Label.answer, Label.created_at)
                .where(Label.project_id == project_id, Label.item_id.between(first, last))
                .order_by(Label.id)
            ):
                labels[label.item_id].append(
                    {
                        "annotator": label.user_id,
                        "answer": label.answer,
                        "created_at": label.created_at.isoformat(),
                    }
                )
        for item in items:
            vote = consensus.get(item.id)
            row: dict[str, Any] = {"id": item.external_id, "item_id": item.id}
            if with_labels:
                row |= {
                    "language": item.language,
                    "domain": item.domain,
                    "data": item.data,
                    "metadata": item.meta,
                    "labels": labels.get(item.id, []),
                }
            elif vote is None:
                continue
            row |= {
                "answer": vote.answer if vote else None,
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
