from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from loupe.formats import csv_lines, jsonl_lines
from loupe.formats_parquet import MEDIA_TYPE as PARQUET
from loupe.services.projects.exports import (
    COLUMNS,
    ExportKind,
    check_coco_export,
    check_export,
    check_parquet_export,
    coco_export,
    iter_export,
    iter_parquet,
    parquet_layout,
)
from loupe.web.deps import Context, Reader
from loupe.web.params import Id

router = APIRouter(tags=["exports"])

LINES_PER_CHUNK = 1_000


@router.get(
    "/projects/{project_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export, streamed",
            "content": {
                "application/x-ndjson": {},
                "text/csv": {},
                PARQUET: {},
                "application/json": {},
            },
        }
    },
)
def export(
    project_id: Id,
    ctx: Reader,
    kind: Annotated[
        ExportKind, Query(description="items (with labels), labels or consensus")
    ] = "items",
    format: Annotated[
        Literal["jsonl", "csv", "parquet", "coco"],
        Query(
            description="parquet: the items export as one Parquet file (docs/import.md); "
            "coco: a COCO JSON document of an image project's consensus boxes or classes "
            "(docs/media.md; kind is ignored)"
        ),
    ] = "jsonl",
) -> Response:
    """Stream items with their labels and consensus, raw labels, or consensus only."""
    if format == "parquet":
        return _parquet(project_id, ctx, kind)
    if format == "coco":
        return _coco(project_id, ctx)
    checked = check_export(ctx.session, ctx.actor, project_id, kind)
    db, chunk = ctx.db, ctx.settings.export_chunk_size

    def body() -> Iterator[str]:
        # A session of its own: the request's closes before the stream ends.
        with db.transaction(readonly=True) as session:
            rows = iter_export(session, project_id, checked, chunk_size=chunk)
            lines = csv_lines(rows, COLUMNS[checked]) if format == "csv" else jsonl_lines(rows)
            # Starlette hands each chunk of a sync iterator to a worker thread: send
            # batches of lines, not lines (100,000 thread hops cost ~10 s).
            while batch := "".join(islice(lines, LINES_PER_CHUNK)):
                yield batch

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    filename = f"project-{project_id}-{checked}.{format}"
    return StreamingResponse(
        body(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _coco(project_id: int, ctx: Context) -> Response:
    schema = check_coco_export(ctx.session, ctx.actor, project_id)
    document = coco_export(
        ctx.session, project_id, schema, chunk_size=ctx.settings.export_chunk_size
    )
    return Response(
        json.dumps(document, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="project-{project_id}-coco.json"'},
    )


def _parquet(project_id: int, ctx: Context, kind: str) -> StreamingResponse:
    text_field = check_parquet_export(ctx.session, ctx.actor, project_id, kind)
    db, chunk = ctx.db, ctx.settings.export_chunk_size

    def body() -> Iterator[bytes]:
        with db.transaction(readonly=True) as session:
            layout = parquet_layout(session, project_id, text_field=text_field, chunk_size=chunk)
            yield from iter_parquet(session, project_id, layout, chunk_size=chunk)

    filename = f"project-{project_id}-items.parquet"
    return StreamingResponse(
        body(),
        media_type=PARQUET,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
