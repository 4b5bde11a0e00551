# Generated from loupe/client/_async/resource.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""The base of every resource: a handle on the client that sends its requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loupe.client._sync.client import Client

__all__ = ["Resource"]


class Resource:
    def __init__(self, client: Client) -> None:
        self._client = client
