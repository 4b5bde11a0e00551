from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from loupe.errors import InvalidInput
from loupe.formats import parse_item
from loupe.formats_parquet import MEDIA_TYPE as PARQUET
from loupe.schemas import ImportOut, ItemOut, ItemsIn, Page
from loupe.services import imports, items, pairwise, projects
from loupe.services.access import Actor
from loupe.services.gate import gate_for
from loupe.web.deps import Context, Reader, Writer
from loupe.web.params import After, Id, Limit, page_of

router = APIRouter(tags=["items"])

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@router.post("/projects/{project_id}/items", response_model=ImportOut)
def add_items(project_id: Id, body: ItemsIn, ctx: Writer) -> ImportOut:
    """Add up to ``max_import_batch`` items in one request.

    Every item is validated before any is written: one bad item adds nothing. Valid
    items are then written in short transactions, like an upload (docs/import.md).
    Idempotent by ``id``: items whose id exists already are left as they are.
    """
    if len(body.items) > ctx.settings.max_import_batch:
        raise InvalidInput(
            f"items: at most {ctx.settings.max_import_batch} per request; send batches, or "
            "upload a file to /items/import",
            details={"field": "items", "max": ctx.settings.max_import_batch},
        )
    project = projects.get_project(ctx.session, ctx.actor, project_id)
    text_field = projects.project_schema(project).text_field
    actor = _release_writer(ctx)
    records = [
        parse_item(row, where=f"items[{index}]", text_field=text_field)
        for index, row in enumerate(body.items)
    ]
    result = imports.import_records(ctx.db, actor, project_id, records, gate=gate_for(ctx.settings))
    return ImportOut(
        received=result.received,
        created=result.created,
        existing=result.existing,
        withheld=result.withheld,
    )


@router.post(
    "/projects/{project_id}/items/import",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
                PARQUET: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_file(
    project_id: Id,
    request: Request,
    ctx: Writer,
    content_type: Annotated[str, Header()] = "application/x-ndjson",
) -> ImportOut:
    """Upload a JSONL (``application/x-ndjson``), JSON array (``application/json``),
    CSV (``text/csv``) or Parquet (``application/vnd.apache.parquet``; the ``parquet``
    extra) file of items.

    The whole file is validated before anything is written; a bad row is reported
    by line (by index in a JSON array) and nothing is imported. Existing ids are
    skipped, so a re-upload is safe.
    """
    kind = content_type.split(";")[0].strip().lower()
    # JSON Lines and a JSON array share a reader: it tells them apart by the first '['.
    fmt = {
        "application/x-ndjson": "jsonl",
        "application/jsonl": "jsonl",
        "application/json": "jsonl",
        "text/csv": "csv",
        PARQUET: "parquet",
        "application/x-parquet": "parquet",
    }.get(kind)
    if fmt is None:
        raise InvalidInput(
            f"Content-Type {kind!r} is not supported; send application/x-ndjson, "
            f"application/json (an array of objects), text/csv or {PARQUET}",
            details={"field": "content-type"},
        )
    # Authenticate before reading the body (a stranger's upload is refused unread).
    actor = await run_in_threadpool(_release_writer, ctx)
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise InvalidInput(f"the upload is larger than {MAX_UPLOAD_BYTES} bytes")
            spool.write(chunk)

        @contextmanager
        def reopen() -> Iterator[IO[str]]:
            spool.seek(0)
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            try:
                yield text
            finally:
                text.detach()  # keep the spool open for the second pass

        @contextmanager
        def reopen_binary() -> Iterator[IO[bytes]]:
            spool.seek(0)
            yield spool

        with gate_for(ctx.settings, workers=ctx.settings.gate_workers) as gate:
            if fmt == "parquet":
                result = await run_in_threadpool(
                    imports.import_parquet,
                    ctx.db,
                    actor,
                    project_id,
                    reopen=reopen_binary,
                    source="upload",
                    gate=gate,
                )
            else:
                result = await run_in_threadpool(
                    imports.import_stream,
                    ctx.db,
                    actor,
                    project_id,
                    reopen=reopen,
                    fmt=fmt,  # type: ignore[arg-type]
                    source="upload",
                    gate=gate,
                )
    return ImportOut(
        received=result.received,
        created=result.created,
        existing=result.existing,
        withheld=result.withheld,
    )


def _release_writer(ctx: Context) -> Actor:
    """Authenticate, then end the request's own transaction: an import writes in
    short transactions of its own and must not hold the database's writer meanwhile
    (on SQLite, one writer at a time)."""
    actor = ctx.actor
    ctx.session.commit()
    return actor


@router.get("/projects/{project_id}/items", response_model=Page[ItemOut])
def list_items(project_id: Id, ctx: Reader, after: After = 0, limit: Limit = 100) -> Page[ItemOut]:
    rows = items.list_items(ctx.session, ctx.actor, project_id, after_id=after, limit=limit + 1)
    found = page_of(rows, limit, ItemOut)
    shown = pairwise.for_reader(ctx.session, ctx.actor, project_id)
    for item in found.items:
        item.data, item.metadata = shown(item.data), shown(item.metadata)
    return found


@router.get("/projects/{project_id}/items/{item_id}", response_model=ItemOut)
def get_item(project_id: Id, item_id: Id, ctx: Reader) -> ItemOut:
    item = ItemOut.model_validate(items.get_item(ctx.session, ctx.actor, project_id, item_id))
    shown = pairwise.for_reader(ctx.session, ctx.actor, project_id)
    item.data, item.metadata = shown(item.data), shown(item.metadata)
    return item
