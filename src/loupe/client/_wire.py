"""How both clients read response bodies and name request formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import httpx
from pydantic import TypeAdapter

__all__ = [
    "CHUNK_BYTES",
    "IMPORT_TYPES",
    "SUFFIX_FORMATS",
    "ExportFormat",
    "ExportKind",
    "ImportFormat",
    "PathParams",
    "PayoutFormat",
    "adapter",
    "parse",
]

ExportKind = Literal["items", "labels", "consensus"]
ExportFormat = Literal["jsonl", "csv", "parquet", "coco"]
ImportFormat = Literal["jsonl", "json", "csv", "parquet"]
PayoutFormat = Literal["csv", "pain001"]
PathParams = Mapping[str, int | str]

CHUNK_BYTES = 64 * 1024
IMPORT_TYPES: dict[ImportFormat, str] = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}
SUFFIX_FORMATS: dict[str, ImportFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}

# Building a TypeAdapter costs far more than using one: one per response type.
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(model: Any) -> TypeAdapter[Any]:
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = TypeAdapter(model)
    return found


def parse(model: Any, response: httpx.Response) -> Any:
    """The response body as ``model`` (a model class, ``list[...]`` or ``Page[...]``)."""
    return adapter(model).validate_json(response.content)
