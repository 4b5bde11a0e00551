"""Keyset pagination: ``?after=<last id seen>&limit=N`` and a ``next_after`` cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Query
from pydantic import BaseModel

from loupe.schemas import Page

__all__ = ["After", "Limit", "page_of"]

After = Annotated[int, Query(ge=0, le=2**62, description="Return rows after this id")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page")]

M = TypeVar("M", bound=BaseModel)


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def page_of(rows: Sequence[Any], limit: int, model: type[M]) -> Page[M]:
    """``rows`` were fetched with ``limit + 1`` so we know whether another page exists."""
    page = rows[:limit]
    return Page[model](  # type: ignore[valid-type]
        items=[model.model_validate(row) for row in page],
        next_after=page[-1].id if len(rows) > limit else None,
    )
