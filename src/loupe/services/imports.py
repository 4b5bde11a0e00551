"""Importing a file of items: validate everything first, then write in batches.

Semantics (documented in docs/import.md): a bad row anywhere is reported by
line and *nothing* is written. Once the whole file has validated, rows are
written in batches; ``commit_batch`` (the CLI passes one) commits each batch so
that annotators keep working during a long import. Should the process die
mid-write, running the same import again resumes: ids already present are
skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import IO

from sqlalchemy.orm import Session

from loupe.formats import Format, read_items
from loupe.services.access import Actor, authorize_project
from loupe.services.gate import PrivacyGate
from loupe.services.items import ImportResult, batched, insert_items
from loupe.services.projects import project_schema

__all__ = ["import_stream"]

BATCH_SIZE = 5_000


def import_stream(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    reopen: Callable[[], AbstractContextManager[IO[str]]],
    fmt: Format,
    source: str = "",
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[str, int], None] | None = None,
    commit_batch: Callable[[], None] | None = None,
    gate: PrivacyGate | None = None,
) -> ImportResult:
    """Import rows from a text stream that ``reopen`` can open twice (validate, then write).

    Every batch passes the privacy ``gate`` (see :func:`loupe.services.items.insert_items`).
    """
    project = authorize_project(session, actor, "items.import", project_id)
    text_field = project_schema(project).text_field
    total = 0
    with reopen() as stream:
        for _ in read_items(stream, fmt=fmt, text_field=text_field, source=source):
            total += 1
            if on_progress and total % batch_size == 0:
                on_progress("validate", batch_size)
    if on_progress:
        on_progress("validate", total % batch_size)
    result = ImportResult()
    with reopen() as stream:
        records = read_items(stream, fmt=fmt, text_field=text_field, source=source)
        for batch in batched(records, batch_size):
            done = insert_items(session, actor, project_id, batch, gate=gate)
            result.received += done.received
            result.created += done.created
            result.withheld += done.withheld
            if commit_batch:
                commit_batch()
            if on_progress:
                on_progress("write", len(batch))
    return result
