"""The bounds an answer is checked against: the size of the image a boxes task draws on
and the length of the audio a segments task marks (``validate_answer(..., size=...,
duration_ms=...)``). The single-item lookups run inside submit, so plain SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.media_models import ItemMedia
from loupe.db.queries.item_media import AUDIO_DURATION, IMAGE_SIZE
from loupe.db.raw import Raw
from loupe.label_schema import Boxes, LabelSchema, Segments, Task

__all__ = ["audio_duration_ms", "audio_durations", "image_size", "image_sizes"]


def image_size(raw: Raw, schema: LabelSchema, item_id: int) -> tuple[int, int] | None:
    """``(width, height)`` of the served image a boxes task draws on, if known (boxes
    answers are checked against it: ``validate_answer(..., size=...)``)."""
    if not isinstance(schema.task, Boxes):
        return None
    row = raw.one(IMAGE_SIZE, item=item_id, field=schema.task.media_field)
    if row is None or row.width is None or row.height is None:
        return None
    return int(row.width), int(row.height)


def image_sizes(
    session: Session, task: Task, item_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """``(width, height)`` of each item's image for a boxes task (gold boxes must fit it)."""
    if not isinstance(task, Boxes) or not item_ids:
        return {}
    rows = session.execute(
        select(ItemMedia.item_id, ItemMedia.width, ItemMedia.height).where(
            ItemMedia.item_id.in_(item_ids), ItemMedia.field == task.media_field
        )
    ).all()
    return {int(i): (int(w), int(h)) for i, w, h in rows if w is not None and h is not None}


def audio_duration_ms(raw: Raw, schema: LabelSchema, item_id: int) -> int | None:
    """Length of the audio a segments task marks, if known (segments answers are checked
    against it: ``validate_answer(..., duration_ms=...)``)."""
    if not isinstance(schema.task, Segments):
        return None
    row = raw.one(AUDIO_DURATION, item=item_id, field=schema.task.media_field)
    return None if row is None or row.duration_ms is None else int(row.duration_ms)


def audio_durations(session: Session, task: Task, item_ids: Sequence[int]) -> dict[int, int]:
    """The audio length of each item for a segments task (gold segments must fit it)."""
    if not isinstance(task, Segments) or not item_ids:
        return {}
    rows = session.execute(
        select(ItemMedia.item_id, ItemMedia.duration_ms).where(
            ItemMedia.item_id.in_(item_ids), ItemMedia.field == task.media_field
        )
    ).all()
    return {int(i): int(d) for i, d in rows if d is not None}
