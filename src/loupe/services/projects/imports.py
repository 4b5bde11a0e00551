"""Importing items: validate everything first, then write in short transactions.

Semantics (documented in docs/import.md): a bad row anywhere is reported by
line and *nothing* is written. Once the whole file (or request body) has
validated, rows are written in batches of :data:`BATCH_SIZE`, each committed on
its own: the privacy gate, the slow part, runs in a read-only transaction, and
the writer is held only for a batch's inserts, so annotators keep working during
a long import. Should the process die mid-write, running the same import again
resumes: ids already present are skipped. Each batch is written under the privacy
settings it was gated under, checked in its write transaction: a batch whose project's
settings changed meanwhile (or an erasure shredded the key its media were sealed under)
is gated again as the project now is (:class:`~loupe.services.projects.items.StaleBatch`).

After a large import on PostgreSQL the touched tables are analysed
(:func:`refresh_statistics`): a server with autovacuum off, or one that has not got
round to it yet, would otherwise plan next task on a 100,000-item table it believes
nearly empty.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

from sqlalchemy import text

from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.formats import Format, ItemRecord, parse_item, read_items
from loupe.formats_labelstudio import task_rows
from loupe.formats_parquet import read_items as read_parquet_items
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance.gate import PrivacyGate
from loupe.services.projects.definition import project_schema
from loupe.services.projects.items import (
    GatedBatch,
    ImportResult,
    StaleBatch,
    batched,
    keepless_gate,
    new_records,
    write_batch,
)
from loupe.services.projects.media import MEDIA_CHUNK, MediaIngest
from loupe.services.projects.media_sources import folder_images
from loupe.services.projects.switch_interval import import_switch_interval

__all__ = [
    "ANALYZE_FRACTION",
    "ANALYZE_MIN_ROWS",
    "BATCH_SIZE",
    "GATE_CHUNK",
    "STALE_ATTEMPTS",
    "import_files",
    "import_folder",
    "import_labelstudio",
    "import_parquet",
    "import_records",
    "import_stream",
    "refresh_statistics",
]

# Rows per write transaction: about 50 ms of writing on SQLite (gate on, vault on),
# short enough that an annotator's write waiting behind it stays well under 200 ms.
BATCH_SIZE = 250
# Rows per write transaction for an importer whose process serves no one (the CLI) while
# no other process has the database open: no annotator can be waiting, and each
# transaction's fixed cost (its synced commit, the vault's key check) adds up over 400
# batches of 250 (bench/compliance/bench_import.py).
LONE_BATCH_SIZE = 5_000
# Times a chunk is gated again when the project's privacy settings change (or a key its
# media were sealed under is shredded) between its gating and its write, before the import
# gives up with StaleBatch (a 409 saying to run it again): settings changing that often
# while one import runs are settings nobody should import under.
STALE_ATTEMPTS = 3
# Pause after a batch while another writer may wait for the lock: ~2 s over 100,000 items.
WRITE_PAUSE_S = 0.005
# Rows gated per call: enough for the gate's process pool (POOL_MIN_BATCH) to pay off.
GATE_CHUNK = 5_000
# An import of at least this many items, and at least this fraction of what the table
# held at its last ANALYZE (autovacuum's own default threshold is 10%), analyses it.
ANALYZE_MIN_ROWS = 1_000
ANALYZE_FRACTION = 0.1
# What an import writes: the items (the queue reads them) and their sealed originals.
_ANALYZED = ("items", "item_vaults")
# -1 until the table's first VACUUM or ANALYZE.
_KNOWN_ROWS = "SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"


def import_stream(
    db: Database,
    actor: Actor,
    project_id: int,
    *,
    reopen: Callable[[], AbstractContextManager[IO[str]]],
    fmt: Format,
    source: str = "",
    batch_size: int | None = None,
    gate_chunk: int | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    gate: PrivacyGate | None = None,
    media: MediaIngest | None = None,
    alone: bool = False,
) -> ImportResult:
    """Import rows from a text stream that ``reopen`` can open twice (validate, then write).

    Every batch passes the privacy ``gate`` (see :func:`import_records`). Rows naming
    media files (the schema's media fields) need ``media``, which reads them: every file
    is probed while the rows are validated, before anything is written. ``alone``: see
    :func:`import_records`.
    """
    batch_size = batch_size or BATCH_SIZE
    with db.transaction(readonly=True) as session:
        project = authorize_project(session, actor, "items.import", project_id)
        schema = project_schema(project)
    text_field, media_fields = schema.text_field, schema.media_fields()
    total = 0
    has_media = False
    with reopen() as stream:
        for record in read_items(
            stream, fmt=fmt, text_field=text_field, source=source, media_fields=media_fields
        ):
            if record.media:
                has_media = True
                _probe(record, media)
            total += 1
            if on_progress and total % batch_size == 0:
                on_progress("validate", batch_size)
    if on_progress:
        on_progress("validate", total % batch_size)
    with reopen() as stream:
        records = read_items(
            stream, fmt=fmt, text_field=text_field, source=source, media_fields=media_fields
        )
        return import_records(
            db,
            actor,
            project_id,
            records,
            gate=gate,
            batch_size=batch_size,
            gate_chunk=gate_chunk or (MEDIA_CHUNK if has_media else None),
            on_progress=on_progress,
            media=media,
            alone=alone,
        )


def _probe(record: ItemRecord, media: MediaIngest | None) -> None:
    if media is None:
        source = record.media[0]
        raise InvalidInput(
            f"{source.where}: field {source.field!r} names a media file; upload media with "
            "POST /api/v1/projects/{id}/items/upload, or import with `loupe import`",
            details={"field": source.field, "where": source.where},
        )
    media.probe(record)


def import_folder(
    db: Database,
    actor: Actor,
    project_id: int,
    folder: Path,
    *,
    media: MediaIngest,
    gate: PrivacyGate | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import every JPEG, PNG and WebP image and every WAV, FLAC, Ogg and MP3 recording
    under ``folder`` as an item (recursively, hidden files skipped): the external id is
    the file's path relative to ``folder`` and the file goes under the schema's first
    media field. Every file is probed
    before anything is written."""
    names = [path.relative_to(folder).as_posix() for path in folder_images(folder)]
    if not names:
        raise InvalidInput(
            f"{folder}: no .jpg, .jpeg, .png, .webp, .wav, .flac, .ogg, .opus or .mp3 files "
            "in this folder",
            details={"field": "folder"},
        )
    return import_files(
        db, actor, project_id, names, media=media, gate=gate, on_progress=on_progress
    )


def import_files(
    db: Database,
    actor: Actor,
    project_id: int,
    names: Iterable[str],
    *,
    media: MediaIngest,
    gate: PrivacyGate | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import each media file ``media`` can read by one of ``names`` as an item of its own
    (a folder, or an upload of files without rows): its external id is the name, its
    media field the schema's first. Every file is probed before anything is written."""
    with db.transaction(readonly=True) as session:
        project = authorize_project(session, actor, "items.import", project_id)
        schema, title = project_schema(project), project.name
    fields = schema.media_fields()
    if not fields:
        raise InvalidInput(
            f"project {title!r} has no media field: add one to its label schema "
            '(`"media": ["image"]`, or a boxes task) to import images',
            details={"field": "media"},
        )
    records: list[ItemRecord] = []
    for name in names:
        record = parse_item(
            {"id": name, fields[0]: name},
            where=f"file {name}",
            text_field=schema.text_field,
            media_fields=fields[:1],
        )
        media.probe(record)
        records.append(record)
        if on_progress:
            on_progress("validate", 1)
    return import_records(
        db,
        actor,
        project_id,
        records,
        gate=gate,
        gate_chunk=MEDIA_CHUNK,
        on_progress=on_progress,
        media=media,
    )


def import_parquet(
    db: Database,
    actor: Actor,
    project_id: int,
    *,
    reopen: Callable[[], AbstractContextManager[IO[bytes]]],
    source: str = "",
    on_progress: Callable[[str, int], None] | None = None,
    gate: PrivacyGate | None = None,
    alone: bool = False,
) -> ImportResult:
    """Import the rows of a Parquet file (:func:`loupe.formats_parquet.read_items`) that
    ``reopen`` can open twice: every row validated first, as :func:`import_stream` does,
    then written through :func:`import_records` (``alone``: see there). Needs the
    ``parquet`` extra."""
    with db.transaction(readonly=True) as session:
        project = authorize_project(session, actor, "items.import", project_id)
        text_field = project_schema(project).text_field
    total = 0
    with reopen() as stream:
        for _ in read_parquet_items(stream, text_field=text_field, source_name=source):
            total += 1
            if on_progress and total % BATCH_SIZE == 0:
                on_progress("validate", BATCH_SIZE)
    if on_progress:
        on_progress("validate", total % BATCH_SIZE)
    with reopen() as stream:
        records = read_parquet_items(stream, text_field=text_field, source_name=source)
        return import_records(
            db, actor, project_id, records, gate=gate, on_progress=on_progress, alone=alone
        )


def import_records(
    db: Database,
    actor: Actor,
    project_id: int,
    records: Iterable[ItemRecord],
    *,
    gate: PrivacyGate | None = None,
    batch_size: int | None = None,
    gate_chunk: int | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    media: MediaIngest | None = None,
    alone: bool = False,
) -> ImportResult:
    """Write validated ``records`` in batches, each in its own short write transaction.

    Every ``gate_chunk`` records are authorised and looked up in a short read-only
    transaction, then gated outside any transaction (a chunk is large enough for the
    gate's process pool), then
    inserted ``batch_size`` at a time, each batch in a write transaction that commits
    at once: an import never holds the writer for longer than one batch's inserts.
    Pass a ``gate`` with a vault to keep the originals sealed
    (:func:`loupe.services.projects.items.insert_items`). Records with media need ``media``, and
    their files probed already (:meth:`MediaIngest.probe`): their media are gated and
    stored before each write (:meth:`MediaIngest.ingest`).

    ``alone``: this process serves no one (the CLI); then, while nobody may wait for the
    writer (:meth:`Database.bulk_writer_should_yield`: on SQLite, no other process has the
    file open; on PostgreSQL, which locks rows, always), a gated chunk is written in one
    transaction (``LONE_BATCH_SIZE``) instead of ``batch_size`` rows at a time. Checked per
    chunk: a server that opens a SQLite file meanwhile waits for at most one such
    transaction, then gets short ones.
    """
    lone = LONE_BATCH_SIZE if alone else None
    with import_switch_interval():
        result = _write_records(
            db, actor, project_id, records, gate or keepless_gate(), batch_size, gate_chunk,
            on_progress, media, lone,
        )  # fmt: skip
    refresh_statistics(db, created=result.created)
    return result


def _write_records(
    db: Database,
    actor: Actor,
    project_id: int,
    records: Iterable[ItemRecord],
    gate: PrivacyGate,
    batch_size: int | None,
    gate_chunk: int | None,
    on_progress: Callable[[str, int], None] | None,
    media: MediaIngest | None,
    lone_batch_size: int | None,
) -> ImportResult:
    result = ImportResult()
    # A lone importer (``lone_batch_size``) with nobody who may wait for the writer hands
    # the next chunk to the gate's pool (when it has one) before writing this one, so the
    # two overlap. Not otherwise: in a server the pool's processes would take the cores
    # that annotators' requests need, and a writer waiting in another process needs the
    # pauses between batches (docs/benchmarks.md, "CLI import").
    in_flight: tuple[list[ItemRecord], Callable[[], GatedBatch]] | None = None
    size = batch_size or BATCH_SIZE

    def look_up(chunk: list[ItemRecord]) -> GatedBatch:
        with db.transaction(readonly=True) as session:
            authorize_project(session, actor, "items.import", project_id)
            return new_records(session, project_id, chunk, gate)

    def store(chunk: list[ItemRecord], gated: GatedBatch) -> None:
        result.received += gated.received
        for attempt in range(1, STALE_ATTEMPTS + 1):
            if any(record.media for record in gated.records.values()):
                if media is None:
                    raise InvalidInput("these items name media files but no media reader was given")
                media.ingest(db, gated, gate)
            try:
                _write_gated(db, gated, gate, result, size, lone_batch_size)
                break
            except StaleBatch:
                # The project's privacy settings changed, or an erasure shredded a key its
                # media were sealed under, since the chunk was gated: what was written went
                # under the old settings before the change committed; gate the rest again
                # as the project now is (ids written are skipped).
                if attempt == STALE_ATTEMPTS:
                    raise
                gated = look_up(chunk).check(gate)
        if on_progress:
            on_progress("write", gated.received)

    for chunk in batched(records, gate_chunk or GATE_CHUNK):
        if in_flight is not None and any(record.media for record in chunk):
            # Media are stored before their items: a chunk naming media is looked up only
            # once the one before it is written, so a repeated id never stores them twice.
            store(in_flight[0], in_flight[1]())
            in_flight = None
        pending = look_up(chunk)
        # Outside any transaction: a reader held open for seconds would keep SQLite from
        # checkpointing its WAL, and every write would slow down as it grows.
        gating = pending.submit(gate)
        if in_flight is not None:
            store(in_flight[0], in_flight[1]())
            in_flight = None
        if lone_batch_size and not db.bulk_writer_should_yield():
            in_flight = (chunk, gating)
        else:
            store(chunk, gating())
    if in_flight is not None:
        store(in_flight[0], in_flight[1]())
    return result


def _write_gated(
    db: Database,
    gated: GatedBatch,
    gate: PrivacyGate,
    result: ImportResult,
    batch_size: int,
    lone_batch_size: int | None,
) -> None:
    """Write a gated chunk in transactions of ``batch_size`` rows (``lone_batch_size``
    while nobody may wait for the writer), adding what was created to ``result``;
    :class:`StaleBatch` from the first part that no longer fits the project."""
    size = batch_size
    if lone_batch_size and not db.bulk_writer_should_yield():
        size = lone_batch_size
    for part in gated.slices(size):
        with db.transaction() as session:
            done = write_batch(session, part, gate)
        # A lock's releaser re-takes it before the threads it woke can run: pause so
        # that waiting annotators write between two batches instead of after all.
        # Nobody who could be waiting, no pause (it was 15% of a 10,000-item upload's
        # time in a one-process server, 2 s of a 100,000-item `loupe import`).
        if db.bulk_writer_should_yield():
            time.sleep(WRITE_PAUSE_S)
        result.created += done.created
        result.withheld += done.withheld


def refresh_statistics(db: Database, *, created: int) -> bool:
    """``ANALYZE`` the tables an import of ``created`` items grew, if it was large.

    PostgreSQL only, in a transaction of its own after the import's writes: without
    statistics the planner takes a freshly imported table for a nearly empty one. An
    import is large when it brought at least :data:`ANALYZE_MIN_ROWS` items and
    :data:`ANALYZE_FRACTION` of the rows the table had when last analysed (or the
    table never was), so small imports into a big project cost nothing. SQLite is
    left alone: its planner picks the queue's indexes without statistics. Returns
    whether it analysed.
    """
    if db.engine.dialect.name != "postgresql" or created < ANALYZE_MIN_ROWS:
        return False
    with db.transaction() as session:
        known = session.execute(text(_KNOWN_ROWS), {"table": "items"}).scalar()
        if known is not None and known >= 0 and created < ANALYZE_FRACTION * known:
            return False
        for table in _ANALYZED:
            session.execute(text(f"ANALYZE {table}"))
    return True


def import_labelstudio(
    db: Database,
    actor: Actor,
    project_id: int,
    stream: IO[str],
    *,
    source: str = "",
    gate: PrivacyGate | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import a Label Studio project export (a JSON list of tasks) as items.

    Every task, with its annotations and predictions converted to the project's answers
    (:func:`loupe.formats_labelstudio.task_rows`), is validated before anything is written;
    then the items go through :func:`import_records`, privacy gate included.
    """
    prefix = f"{source}: " if source else ""
    with db.transaction(readonly=True) as session:
        project = authorize_project(session, actor, "items.import", project_id)
        schema = project_schema(project)
    try:
        tasks = json.load(stream)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{prefix}not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{prefix}the file is not UTF-8 text (bad byte at offset {exc.start}); "
            "re-encode it as UTF-8"
        ) from None
    records = [
        parse_item(row, where=where, text_field=schema.text_field)
        for where, row in task_rows(tasks, schema, source=source)
    ]
    if on_progress:
        on_progress("validate", len(records))
    return import_records(db, actor, project_id, records, gate=gate, on_progress=on_progress)
