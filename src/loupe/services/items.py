"""Items: idempotent batch import (by external id) and reading them back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.models import Item, Project, utcnow
from loupe.db.upsert import insert_ignore
from loupe.errors import NotFound
from loupe.formats import ItemRecord
from loupe.services.access import Actor, authorize_project

__all__ = ["ImportResult", "batched", "count_items", "get_item", "insert_items", "list_items"]


@dataclass(slots=True)
class ImportResult:
    received: int = 0
    created: int = 0

    @property
    def existing(self) -> int:
        """Rows whose external id was already in the project (left unchanged)."""
        return self.received - self.created


def batched(records: Iterable[ItemRecord], size: int) -> Iterator[list[ItemRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_items(
    session: Session, actor: Actor, project_id: int, records: Sequence[ItemRecord]
) -> ImportResult:
    """Insert one batch; rows whose external id exists already are skipped (idempotent)."""
    project = authorize_project(session, actor, "items.import", project_id)
    return _insert(session, project, records)


def _insert(session: Session, project: Project, records: Sequence[ItemRecord]) -> ImportResult:
    if not records:
        return ImportResult()
    now = utcnow()
    # Within one batch the last duplicate would lose to the first at the database;
    # keep the first explicitly so counts are right.
    unique: dict[str, ItemRecord] = {}
    for record in records:
        unique.setdefault(record.external_id, record)
    rows = [
        {
            "project_id": project.id,
            "external_id": record.external_id,
            "data": record.data,
            "metadata": record.meta,
            "language": record.language,
            "domain": record.domain,
            "label_count": 0,
            "is_complete": False,
            "created_at": now,
        }
        for record in unique.values()
    ]
    table = Item.__table__
    before = _count(session, project.id)
    session.execute(insert_ignore(session, table, conflict=["project_id", "external_id"]), rows)
    created = _count(session, project.id) - before
    return ImportResult(received=len(records), created=created)


def _count(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count()).where(Item.project_id == project_id)) or 0


def count_items(session: Session, actor: Actor, project_id: int) -> int:
    authorize_project(session, actor, "projects.read", project_id)
    return _count(session, project_id)


def list_items(
    session: Session, actor: Actor, project_id: int, *, after_id: int, limit: int
) -> Sequence[Item]:
    """A page of items in id order (keyset pagination: pass the last id seen)."""
    authorize_project(session, actor, "items.read", project_id)
    return session.scalars(
        select(Item)
        .where(Item.project_id == project_id, Item.id > after_id)
        .order_by(Item.id)
        .limit(limit)
    ).all()


def get_item(session: Session, actor: Actor, project_id: int, item_id: int) -> Item:
    authorize_project(session, actor, "items.read", project_id)
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    return item
