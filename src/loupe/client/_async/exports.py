"""Streamed exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from loupe.client._async.resource import AsyncResource
from loupe.client._wire import ExportFormat, ExportKind

__all__ = ["AsyncExportsResource"]


class AsyncExportsResource(AsyncResource):
    """Streamed exports: items with labels and consensus, raw labels, or consensus."""

    async def download(
        self,
        project_id: int,
        destination: str | Path,
        *,
        kind: ExportKind = "items",
        format: ExportFormat = "jsonl",
    ) -> int:
        """Stream the export into ``destination`` (in constant memory); returns its bytes."""
        written = 0
        async with self._client.stream(
            "exports.export",
            path={"project_id": project_id},
            params={"kind": kind, "format": format},
        ) as response:
            with Path(destination).open("wb") as out:
                async for chunk in response.aiter_bytes():
                    written += out.write(chunk)
        return written

    async def rows(self, project_id: int, *, kind: ExportKind = "items") -> AsyncIterator[Any]:
        """The export's rows as they arrive, one JSON object (a ``dict``) each."""
        async with self._client.stream(
            "exports.export",
            path={"project_id": project_id},
            params={"kind": kind, "format": "jsonl"},
        ) as response:
            async for line in response.aiter_lines():
                if line.strip():
                    yield json.loads(line)

    def consensus(self, project_id: int) -> AsyncIterator[Any]:
        """The people's resolved answers: ``rows(project_id, kind="consensus")``."""
        return self.rows(project_id, kind="consensus")
