"""The base of every resource: a handle on the client that sends its requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loupe.client._async.client import AsyncClient

__all__ = ["AsyncResource"]


class AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
