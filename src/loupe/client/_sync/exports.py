# Generated from loupe/client/_async/exports.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Streamed exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loupe.client._sync.resource import Resource
from loupe.client._wire import ExportFormat, ExportKind

__all__ = ["ExportsResource"]


class ExportsResource(Resource):
    """Streamed exports: items with labels and consensus, raw labels, or consensus."""

    def download(
        self,
        project_id: int,
        destination: str | Path,
        *,
        kind: ExportKind = "items",
        format: ExportFormat = "jsonl",
    ) -> int:
        """Stream the export into ``destination`` (in constant memory); returns its bytes."""
        written = 0
        with (
            self._client.stream(
                "exports.export",
                path={"project_id": project_id},
                params={"kind": kind, "format": format},
            ) as response,
            Path(destination).open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                written += out.write(chunk)
        return written

    def rows(self, project_id: int, *, kind: ExportKind = "items") -> Iterator[Any]:
        """The export's rows as they arrive, one JSON object (a ``dict``) each."""
        with self._client.stream(
            "exports.export",
            path={"project_id": project_id},
            params={"kind": kind, "format": "jsonl"},
        ) as response:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)

    def consensus(self, project_id: int) -> Iterator[Any]:
        """The people's resolved answers: ``rows(project_id, kind="consensus")``."""
        return self.rows(project_id, kind="consensus")
