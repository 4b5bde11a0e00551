"""``loupe import`` and ``loupe export``: streamed, with progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import (
    console,
    err_console,
    open_database,
    resolve_project,
    settings,
    to_stdout,
)
from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.formats import csv_lines, format_for, jsonl_lines
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate, gate_for
from loupe.services.compliance.key_binding import check_key_dir
from loupe.services.projects.exports import (
    COLUMNS,
    check_coco_export,
    check_export,
    check_labelstudio_export,
    check_parquet_export,
    coco_export,
    iter_export,
    iter_labelstudio,
    iter_parquet,
    parquet_layout,
)
from loupe.services.projects.imports import (
    import_folder,
    import_labelstudio,
    import_parquet,
    import_stream,
)
from loupe.services.projects.items import ImportResult
from loupe.services.projects.media import MediaIngest
from loupe.services.projects.media_sources import LocalMedia
from loupe.settings import Settings

__all__ = ["register"]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def import_items(
    project: Annotated[str, typer.Argument(help="Project id or name")],
    path: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl, .json (one array), .csv, .parquet or Label Studio file, or a "
            "folder of images (.jpg, .jpeg, .png, .webp)"
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            help="jsonl, csv, parquet or labelstudio (default: from extension, never labelstudio)"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes for the privacy gate; 0: every core (default: setting)"),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import items from JSONL, a JSON array, CSV or Parquet: validated in full first, then
    written in batches.

    With --format labelstudio the file is a Label Studio project export (a JSON list of
    tasks); its annotations and predictions become pre-labels (see docs/import.md).
    A .parquet file (or --format parquet) needs the loupe[parquet] extra.
    Every item passes the privacy gate before it is stored (see docs/compliance.md).
    Idempotent by item id: re-running the same import adds nothing twice.

    Rows name image files in the schema's media fields (a path relative to the file's
    folder, an absolute path, or an s3:// URI); a FOLDER imports every image in it, each
    an item whose id is its relative path (see docs/media.md). Needs loupe[images].
    """
    if path.is_dir():
        _import_folder(project, path, workers, database_url)
        return
    labelstudio = (format or "").lower() == "labelstudio"
    parquet = (format or path.suffix.lstrip(".")).lower() == "parquet"
    fmt = "jsonl" if labelstudio or parquet else format_for(path, format)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")

    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        with path.open(encoding="utf-8", newline="") as stream:
            yield stream

    @contextmanager
    def reopen_binary() -> Iterator[IO[bytes]]:
        with path.open("rb") as stream:
            yield stream

    config = settings(database_url)
    media = MediaIngest(LocalMedia(path.resolve().parent, config), config)
    with (
        open_database(database_url) as db,
        _checked_gate(db, config, workers) as gate,
        _progress() as progress,
    ):
        with db.transaction(readonly=True) as session:
            project_id = resolve_project(session, project)
        tasks: dict[str, TaskID] = {
            "validate": progress.add_task("validating", total=None, rate=""),
            "write": progress.add_task("writing", total=None, rate=""),
        }

        def on_progress(phase: str, n: int) -> None:
            progress.advance(tasks[phase], n)
            if phase == "validate":
                done = progress.tasks[tasks["validate"]].completed
                progress.update(tasks["write"], total=done)
            task = progress.tasks[tasks[phase]]
            if task.elapsed:
                progress.update(tasks[phase], rate=f"{task.completed / task.elapsed:,.0f}/s")

        # Each batch commits on its own (import_records): annotators keep working.
        if labelstudio:
            with reopen() as stream:
                result = import_labelstudio(
                    db,
                    Actor.system(),
                    project_id,
                    stream,
                    source=str(path),
                    on_progress=on_progress,
                    gate=gate,
                )
        elif parquet:
            result = import_parquet(
                db,
                Actor.system(),
                project_id,
                reopen=reopen_binary,
                source=str(path),
                on_progress=on_progress,
                gate=gate,
                alone=True,  # this process serves no one
            )
        else:
            result = import_stream(
                db,
                Actor.system(),
                project_id,
                reopen=reopen,
                fmt=fmt,
                source=str(path),
                on_progress=on_progress,
                gate=gate,
                media=media,
                alone=True,  # this process serves no one
            )
    _report(result)


def _import_folder(
    project: str, folder: Path, workers: int | None, database_url: str | None
) -> None:
    config = settings(database_url)
    media = MediaIngest(LocalMedia(folder.resolve(), config), config)
    with (
        open_database(database_url) as db,
        _checked_gate(db, config, workers) as gate,
        _progress() as progress,
    ):
        with db.transaction(readonly=True) as session:
            project_id = resolve_project(session, project)
        tasks = {
            "validate": progress.add_task("checking images", total=None, rate=""),
            "write": progress.add_task("gating and writing", total=None, rate=""),
        }

        def on_progress(phase: str, n: int) -> None:
            progress.advance(tasks[phase], n)
            if phase == "validate":
                progress.update(tasks["write"], total=progress.tasks[tasks["validate"]].completed)

        result = import_folder(
            db,
            Actor.system(),
            project_id,
            folder.resolve(),
            media=media,
            gate=gate,
            on_progress=on_progress,
        )
    _report(result)


def _checked_gate(db: Database, config: Settings, workers: int | None) -> PrivacyGate:
    """The import's gate, once the key directory is known to be this database's: sealed
    under another deployment's keys, an original (and a subject stored by its keyed ref)
    could never be found again by an erasure here."""
    check_key_dir(db, config.resolved_key_dir())
    return gate_for(config, workers=config.gate_workers if workers is None else workers)


def _report(result: ImportResult) -> None:
    console.print(
        f"{result.received} rows: {result.created} new items, "
        f"{result.existing} already present (left unchanged)"
        + (
            f", {result.withheld} withheld by the privacy gate (`loupe privacy withheld`)"
            if result.withheld
            else ""
        )
    )


def export(
    project: Annotated[str, typer.Argument(help="Project id or name")],
    kind: Annotated[
        str,
        typer.Option(
            help="items (with labels), labels, consensus, or labelstudio (a Label Studio "
            "JSON task list; --format is ignored)"
        ),
    ] = "items",
    format: Annotated[
        str,
        typer.Option(
            help="jsonl, csv, parquet (items only; needs --output) or coco (a COCO JSON "
            "document of an image project's consensus boxes or classes; --kind is ignored)"
        ),
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Default (or -): stdout. Parquet: a .parquet file, or a directory that gets "
            "data/train-00000-of-00001.parquet",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export items with labels and consensus, raw labels, or consensus (streamed).

    --kind labelstudio writes one JSON list of Label Studio tasks: labels as annotations,
    consensus as a prediction (see docs/import.md). --format parquet writes the items
    export as one Parquet file that Hugging Face datasets loads (the loupe[parquet] extra).
    --format coco writes one COCO JSON document: the images (by SHA-256 and URL) with
    their consensus boxes or classes (see docs/media.md).
    """
    if format not in {"jsonl", "csv", "parquet", "coco"}:
        raise InvalidInput(f"--format: {format!r} is not jsonl, csv, parquet or coco")
    if to_stdout(output):
        output = None
    if format == "coco":
        _export_coco(project, output, database_url)
        return
    if format == "parquet" and kind != "labelstudio":
        if output is None:
            raise InvalidInput(
                "--format parquet needs --output: a .parquet file or a directory",
                details={"field": "output"},
            )
        _export_parquet(project, kind, output, database_url)
        return
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        lines: Iterable[str]
        if kind == "labelstudio":
            schema = check_labelstudio_export(session, Actor.system(), project_id)
            checked = kind
            lines = _json_list(iter_labelstudio(session, project_id, schema, chunk_size=2000))
        else:
            checked = check_export(session, Actor.system(), project_id, kind)
            rows = iter_export(session, project_id, checked, chunk_size=2000)
            lines = csv_lines(rows, COLUMNS[checked]) if format == "csv" else jsonl_lines(rows)
        target: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        count = 0
        try:
            with _progress() as progress:
                task = progress.add_task(f"exporting {checked}", total=None, rate="")
                for line in lines:
                    target.write(line)
                    count += 1
                    if count % 5000 == 0:
                        progress.advance(task, 5000)
                progress.update(task, completed=count)
        finally:
            if output:
                target.close()
    if output and kind == "labelstudio":
        console.print(f"wrote {count - 2} tasks to {output}")  # less the list's brackets
    elif output:
        console.print(f"wrote {count} lines to {output}")


def _export_coco(project: str, output: Path | None, database_url: str | None) -> None:
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        schema = check_coco_export(session, Actor.system(), project_id)
        document = coco_export(session, project_id, schema, chunk_size=2000)
    text = json.dumps(document, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console.print(
        f"wrote {len(document['images'])} images and {len(document['annotations'])} "
        f"annotations to {output}"
    )


def _export_parquet(project: str, kind: str, output: Path, database_url: str | None) -> None:
    target = output
    if output.suffix.lower() != ".parquet":
        # The Hugging Face Hub's layout: load_dataset(DIR) finds the train split in it.
        target = output / "data" / "train-00000-of-00001.parquet"
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        text_field = check_parquet_export(session, Actor.system(), project_id, kind)
        layout = parquet_layout(session, project_id, text_field=text_field, chunk_size=2000)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a failed export leaves no truncated file behind.
        partial = target.with_name(target.name + ".part")
        try:
            with _progress() as progress, partial.open("wb") as stream:
                task = progress.add_task("exporting items to Parquet", total=None, rate="")
                for chunk in iter_parquet(session, project_id, layout, chunk_size=2000):
                    stream.write(chunk)
                    progress.update(task, description=f"exporting items ({stream.tell():,} bytes)")
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    console.print(f"wrote {target}")


def _json_list(rows: Iterable[object]) -> Iterator[str]:
    """One JSON list, an element a line, streamed (Label Studio reads a list of tasks)."""
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def register(app: typer.Typer) -> None:
    app.command("import")(import_items)
    app.command("export")(export)
