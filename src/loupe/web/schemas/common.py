"""Shapes every router shares: the error body, a page of results, the ORM base."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["ErrorBody", "ErrorDetail", "Orm", "Page"]

T = TypeVar("T")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    """A page of results; pass ``next_after`` as ``after`` to get the next one."""

    items: list[T]
    next_after: int | None


class Orm(BaseModel):
    """A response body read from a database row's attributes."""

    model_config = ConfigDict(from_attributes=True)
