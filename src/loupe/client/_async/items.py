"""Items, the annotator loop (tasks) and labels."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from loupe.client._async.resource import AsyncResource
from loupe.client._wire import (
    CHUNK_BYTES,
    IMPORT_TYPES,
    SUFFIX_FORMATS,
    ImportFormat,
    adapter,
    parse,
)
from loupe.client.models import Comment, ImportResult, Item, Label, Page, Submission, Task, Undone

__all__ = ["AsyncItemsResource", "AsyncLabelsResource", "AsyncTasksResource"]


async def _aiter_file(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


class AsyncItemsResource(AsyncResource):
    """A project's items: add rows, upload files, list and read them."""

    async def list(self, project_id: int, *, after: int = 0, limit: int = 100) -> Page[Item]:
        response = await self._client.request(
            "items.list",
            path={"project_id": project_id},
            params={"after": after, "limit": limit},
        )
        page: Page[Item] = parse(Page[Item], response)
        return page

    async def iter(self, project_id: int, *, page_size: int = 100) -> AsyncIterator[Item]:
        """Every item of the project in id order, a page at a time."""
        after = 0
        while True:
            page = await self.list(project_id, after=after, limit=page_size)
            for item in page.items:
                yield item
            if page.next_after is None:
                return
            after = page.next_after

    async def get(self, project_id: int, item_id: int) -> Item:
        response = await self._client.request(
            "items.get", path={"project_id": project_id, "item_id": item_id}
        )
        result: Item = parse(Item, response)
        return result

    async def download_media(self, sha256: str) -> bytes:
        """The gated bytes of an item's media part (``item.media[i].sha256``), as the
        privacy gate left them; checked against ``sha256`` before they are returned.

        The server answers 404 unless you may read an item that carries them."""
        response = await self._client.request("items.download_media", path={"sha256": sha256})
        data = response.content
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"media {sha256}: the bytes received do not have that SHA-256")
        return data

    async def comments(self, project_id: int, item_id: int) -> builtins.list[Comment]:
        """The item's comments, oldest first."""
        response = await self._client.request(
            "items.list_comments", path={"project_id": project_id, "item_id": item_id}
        )
        result: builtins.list[Comment] = parse(list[Comment], response)
        return result

    async def comment(self, project_id: int, item_id: int, body: str) -> Comment:
        """Comment on an item (personal data the privacy gate finds is redacted)."""
        response = await self._client.request(
            "items.add_comment",
            path={"project_id": project_id, "item_id": item_id},
            json={"body": body},
        )
        result: Comment = parse(Comment, response)
        return result

    async def add(
        self, project_id: int, rows: Sequence[Mapping[str, Any]], *, batch_size: int = 500
    ) -> ImportResult:
        """Add items (``{"id", "text", ...}`` rows) in batches; returns the totals.

        Idempotent by ``id``: rows whose id exists already are counted as ``existing``.
        """
        totals = ImportResult(received=0, created=0, existing=0, withheld=0)
        for start in range(0, len(rows), batch_size):
            batch = [dict(row) for row in rows[start : start + batch_size]]
            response = await self._client.request(
                "items.add", path={"project_id": project_id}, json={"items": batch}
            )
            done: ImportResult = parse(ImportResult, response)
            totals = ImportResult(
                received=totals.received + done.received,
                created=totals.created + done.created,
                existing=totals.existing + done.existing,
                withheld=totals.withheld + done.withheld,
            )
        return totals

    async def import_file(
        self, project_id: int, path: str | Path, *, format: ImportFormat | None = None
    ) -> ImportResult:
        """Upload a JSONL, JSON-array or CSV file, streamed (``format`` defaults to the
        file's suffix). The server validates it whole first: one bad row imports nothing."""
        source = Path(path)
        fmt = format or SUFFIX_FORMATS.get(source.suffix.lower())
        if fmt is None:
            raise ValueError(f"{source}: say format='jsonl', 'json' or 'csv'")
        response = await self._client.request(
            "items.import",
            path={"project_id": project_id},
            content=lambda: _aiter_file(source),
            headers={"Content-Type": IMPORT_TYPES[fmt]},
        )
        result: ImportResult = parse(ImportResult, response)
        return result

    async def import_bytes(
        self, project_id: int, data: bytes | str, *, format: ImportFormat = "jsonl"
    ) -> ImportResult:
        """Upload a file held in memory (JSON Lines text, a JSON array or CSV)."""
        body = data.encode("utf-8") if isinstance(data, str) else data
        response = await self._client.request(
            "items.import",
            path={"project_id": project_id},
            content=lambda: body,
            headers={"Content-Type": IMPORT_TYPES[format]},
        )
        result: ImportResult = parse(ImportResult, response)
        return result


class AsyncTasksResource(AsyncResource):
    """The annotator loop: reserve the next item, or pass on one."""

    async def next(self, project_id: int) -> Task | None:
        """Reserve the next item for you; ``None`` when nothing is left for you."""
        response = await self._client.request("tasks.next", path={"project_id": project_id})
        task: Task | None = adapter(Task | None).validate_python(response.json()["task"])
        return task

    async def skip(self, project_id: int, item_id: int) -> None:
        """Pass on an item; it is not offered to you again."""
        await self._client.request(
            "tasks.skip", path={"project_id": project_id, "item_id": item_id}
        )


class AsyncLabelsResource(AsyncResource):
    """Answers: submit yours, take it back within the grace period, list a project's."""

    async def submit(
        self, project_id: int, item_id: int, answer: Any, *, lead_time_ms: int | None = None
    ) -> Submission:
        """Submit your answer to an item served to you by ``tasks.next``."""
        response = await self._client.request(
            "labels.submit",
            path={"project_id": project_id, "item_id": item_id},
            json={"answer": answer, "lead_time_ms": lead_time_ms},
        )
        result: Submission = parse(Submission, response)
        return result

    async def undo(self, project_id: int, item_id: int) -> Undone:
        """Withdraw your label on an item (within ``LOUPE_UNDO_GRACE_SECONDS``)."""
        response = await self._client.request(
            "labels.undo", path={"project_id": project_id, "item_id": item_id}
        )
        result: Undone = parse(Undone, response)
        return result

    async def list(self, project_id: int, *, after: int = 0, limit: int = 100) -> Page[Label]:
        response = await self._client.request(
            "labels.list",
            path={"project_id": project_id},
            params={"after": after, "limit": limit},
        )
        page: Page[Label] = parse(Page[Label], response)
        return page

    async def iter(self, project_id: int, *, page_size: int = 100) -> AsyncIterator[Label]:
        """Every label of the project in id order, a page at a time."""
        after = 0
        while True:
            page = await self.list(project_id, after=after, limit=page_size)
            for label in page.items:
                yield label
            if page.next_after is None:
                return
            after = page.next_after
