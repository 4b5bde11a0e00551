from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from loupe.errors import InvalidInput, PayloadTooLarge
from loupe.formats import parse_item
from loupe.formats_parquet import MEDIA_TYPE as PARQUET
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance.gate import gate_for
from loupe.services.labelling import pairwise
from loupe.services.projects import definition, imports, items, media_views
from loupe.web.deps import Context, Reader, Writer
from loupe.web.params import After, Id, Limit, page_of
from loupe.web.schemas.common import Page
from loupe.web.schemas.items import ImportOut, ItemOut, ItemsIn
from loupe.web.schemas.media import MediaOut

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
    project = definition.get_project(ctx.session, ctx.actor, project_id)
    schema = definition.project_schema(project)
    actor = _release_writer(ctx)
    records = [
        parse_item(
            row,
            where=f"items[{index}]",
            text_field=schema.text_field,
            media_fields=schema.media_fields(),
        )
        for index, row in enumerate(body.items)
    ]
    for record in records:
        if record.media:
            source = record.media[0]
            raise InvalidInput(
                f"{source.where}: field {source.field!r} names a media file; send the rows "
                f"and the files as multipart/form-data to /projects/{project_id}/items/upload",
                details={"field": source.field, "where": source.where},
            )
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
                raise _too_large()
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


# At most this many file parts (and form fields) in one upload to /items/upload.
MAX_UPLOAD_FILES = 1_000


@router.post(
    "/projects/{project_id}/items/upload",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "items": {"type": "string", "format": "binary"},
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                        "required": ["files"],
                    }
                }
            },
        }
    },
)
async def upload_items(project_id: Id, request: Request, ctx: Writer) -> ImportOut:
    """Upload images with (or without) rows, as ``multipart/form-data``.

    ``items`` (optional): a JSONL, JSON-array or CSV file (or form field) of rows whose
    media fields name uploaded files by their file name; every other file part is an
    image (JPEG, PNG or WebP, at most ``max_media_bytes``). Without ``items``, each file
    becomes an item whose id is its file name. Every row and every file is checked
    before anything is written: a bad one is a 422 naming its line and file, and
    nothing is imported. A row naming a path or a URL is refused: the server never
    reads its own files or fetches URLs. Existing ids are skipped (a re-upload is safe).
    """
    actor = await run_in_threadpool(_authorize_import, ctx, project_id)
    size = request.headers.get("content-length")
    if size is None or not size.isdigit():
        raise InvalidInput("send the upload with a Content-Length header")
    if int(size) > MAX_UPLOAD_BYTES:
        raise _too_large()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise InvalidInput(
            "send multipart/form-data: an optional `items` file of rows and the image files",
            details={"field": "content-type"},
        )
    async with request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_UPLOAD_FILES) as form:
        rows: str | UploadFile | None = None
        files: dict[str, IO[bytes]] = {}
        for name, part in form.multi_items():
            if name == "items":
                rows = part
            elif isinstance(part, UploadFile):
                filename = part.filename or ""
                if not filename:
                    raise InvalidInput(f"form part {name!r}: a file part needs a file name")
                if filename in files:
                    raise InvalidInput(
                        f"two uploaded files are named {filename!r}; file names must be unique",
                        details={"file": filename},
                    )
                files[filename] = part.file
        if not files:
            raise InvalidInput(
                "no files: upload the images as file parts", details={"field": "files"}
            )
        result = await run_in_threadpool(_upload, ctx, actor, project_id, rows, files)
    return ImportOut(
        received=result.received,
        created=result.created,
        existing=result.existing,
        withheld=result.withheld,
    )


def _too_large() -> PayloadTooLarge:
    """An upload over ``MAX_UPLOAD_BYTES``: a 413 like the body limit's
    (``loupe.web.body_limit``), which leaves the file imports to this one."""
    limit = MAX_UPLOAD_BYTES
    size = f"{limit >> 20} MiB ({limit} bytes)" if limit % (1 << 20) == 0 else f"{limit} bytes"
    return PayloadTooLarge(
        f"the upload is larger than {size}, the file imports' limit; split the file and "
        "upload the parts (existing ids are skipped, so a part sent twice is safe)",
        details={"max_bytes": limit},
    )


def _authorize_import(ctx: Context, project_id: int) -> Actor:
    """Refuse an outsider before the upload is read, then release the writer."""
    authorize_project(ctx.session, ctx.actor, "items.import", project_id)
    return _release_writer(ctx)


def _upload(
    ctx: Context,
    actor: Actor,
    project_id: int,
    rows: str | UploadFile | None,
    files: dict[str, IO[bytes]],
) -> items.ImportResult:
    from loupe.services.projects.media import MediaIngest
    from loupe.services.projects.media_sources import Uploads

    media = MediaIngest(Uploads(files), ctx.settings)
    with gate_for(ctx.settings, workers=ctx.settings.gate_workers) as gate:
        if rows is None:
            return imports.import_files(
                ctx.db, actor, project_id, list(files), media=media, gate=gate
            )
        if isinstance(rows, str):
            raw: IO[bytes] = io.BytesIO(rows.encode())
            fmt = "jsonl"
        else:
            raw = rows.file
            fmt = "csv" if (rows.filename or "").lower().endswith(".csv") else "jsonl"

        @contextmanager
        def reopen() -> Iterator[IO[str]]:
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            try:
                yield text
            finally:
                text.detach()

        return imports.import_stream(
            ctx.db,
            actor,
            project_id,
            reopen=reopen,
            fmt=fmt,  # type: ignore[arg-type]
            source="items",
            gate=gate,
            media=media,
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
    media = media_views.media_for_reader(ctx.session, ctx.actor, project_id, rows[:limit])
    for item in found.items:
        item.data, item.metadata = shown(item.data), shown(item.metadata)
        item.media = [MediaOut.model_validate(entry) for entry in media.get(item.id, [])]
    return found


@router.get("/projects/{project_id}/items/{item_id}", response_model=ItemOut)
def get_item(project_id: Id, item_id: Id, ctx: Reader) -> ItemOut:
    row = items.get_item(ctx.session, ctx.actor, project_id, item_id)
    item = ItemOut.model_validate(row)
    shown = pairwise.for_reader(ctx.session, ctx.actor, project_id)
    item.data, item.metadata = shown(item.data), shown(item.metadata)
    media = media_views.media_for_reader(ctx.session, ctx.actor, project_id, [row])
    item.media = [MediaOut.model_validate(entry) for entry in media.get(item.id, [])]
    return item
