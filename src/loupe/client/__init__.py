"""Loupe's Python SDK: a typed client for the whole HTTP API, blocking or async.

>>> from loupe.client import Client
>>> with Client("http://127.0.0.1:8000", token="lp_...") as client:  # doctest: +SKIP
...     project = client.projects.create("intents", {"task": {"type": "single_choice",
...         "labels": [{"key": "call"}, {"key": "music"}]}})
...     client.items.add(project.id, [{"id": "u1", "text": "call Maya"}])
...     for item in client.items.iter(project.id):
...         print(item.external_id, item.data)

:class:`AsyncClient` has the same resources and methods (``await``, ``async for``).
Both send 429/503 answers again with back-off (:class:`RetryPolicy`), and raise
:class:`LoupeClientError` subclasses (:mod:`loupe.client.errors`) for refusals.
The endpoints are one table (:mod:`loupe.client.operations`), checked against the
OpenAPI contract by a test. See docs/client.md.

Importing this package loads httpx and pydantic only (no FastAPI, SQLAlchemy or NumPy).
"""

from __future__ import annotations

from loupe.client._async.client import AsyncClient
from loupe.client._sync.client import Client
from loupe.client.errors import (
    Conflict,
    ConnectionFailed,
    InvalidInput,
    LoupeClientError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServerError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from loupe.client.legacy import BatchResult, LoupeClient, ModelInfo
from loupe.client.models import Page, Prediction
from loupe.client.retry import RetryPolicy

__all__ = [
    "AsyncClient",
    "BatchResult",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "InvalidInput",
    "LoupeClient",
    "LoupeClientError",
    "ModelInfo",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "PermissionDenied",
    "Prediction",
    "RetryPolicy",
    "ServerError",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
]
