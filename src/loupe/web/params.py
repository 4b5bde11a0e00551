"""Shared request parameters: ids in paths, and keyset pagination
(``?after=<last id seen>&limit=N`` with a ``next_after`` cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel

from loupe.web.schemas.common import Page

__all__ = ["After", "Id", "Limit", "page_of"]

# Ids are 32-bit integers on every backend.
MAX_ID = 2**31 - 1

After = Annotated[int, Query(ge=0, le=MAX_ID, description="Return rows after this id")]
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page")]

M = TypeVar("M", bound=BaseModel)


def page_of(rows: Sequence[Any], limit: int, model: type[M]) -> Page[M]:
    """``rows`` were fetched with ``limit + 1`` so we know whether another page exists."""
    page = rows[:limit]
    return Page[model](  # type: ignore[valid-type]
        items=[model.model_validate(row) for row in page],
        next_after=page[-1].id if len(rows) > limit else None,
    )
