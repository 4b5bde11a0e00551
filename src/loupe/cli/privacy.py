"""``loupe privacy scan|redact``: detect or redact identifiers in a JSON Lines file;
``loupe privacy withheld|retry-withheld``: what the gate withheld in a project.

Errors are raised as :mod:`loupe.errors` exceptions; ``loupe.cli`` maps them to
exit codes. Progress goes to stderr so stdout stays clean for pipes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, open_output, resolve_project, settings
from loupe.errors import InvalidInput
from loupe.formats import decode_json
from loupe.privacy import POLICIES, Redactor, Scanner

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Detect and redact personal data in JSON Lines files; see what the gate withheld."
)

InputArg = Annotated[Path, typer.Argument(help="JSON Lines file, one object per line.")]
OutputOpt = Annotated[
    Path, typer.Option("--output", "-o", help="Where to write JSON Lines (- for stdout).")
]
TextFieldOpt = Annotated[str, typer.Option(help="Field holding the text to check.")]


def _records(path: Path, text_field: str) -> Iterator[tuple[int, dict[str, Any], str]]:
    if not path.is_file():
        raise InvalidInput(f"input file {path} does not exist", details={"field": "input"})
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = decode_json(line)
            except ValueError as exc:
                raise InvalidInput(
                    f"{path}:{lineno}: not valid JSON ({exc})",
                    details={"line": lineno, "file": str(path)},
                ) from None
            if not isinstance(record, dict):
                raise InvalidInput(
                    f"{path}:{lineno}: expected a JSON object", details={"line": lineno}
                )
            text = record.get(text_field)
            if not isinstance(text, str):
                raise InvalidInput(
                    f"{path}:{lineno}: field {text_field!r} is missing or not a string; "
                    "pass --text-field to name the field that holds the text",
                    details={"line": lineno, "field": text_field},
                )
            yield lineno, record, text


def _progress(path: Path) -> Progress:
    return Progress(
        console=Console(stderr=True), transient=True, disable=path.stat().st_size < 1_000_000
    )


@privacy_app.command()
def scan(
    input: InputArg,
    output: OutputOpt,
    text_field: TextFieldOpt = "text",
    id_field: Annotated[str, typer.Option(help="Field copied to the output as id.")] = "id",
) -> None:
    """Write the detected spans of each line: {"id", "spans": [{"start","end","type","score"}]}.

    An item the gate must withhold (a detector error, or text over the size limit) is written with
    "withhold": true.
    """
    scanner = Scanner()
    with _progress(input) as progress, open_output(output) as out:
        task = progress.add_task("scanning", total=input.stat().st_size)
        for lineno, record, text in _records(input, text_field):
            result = scanner.scan(text)
            row = {
                "id": record.get(id_field, lineno),
                "spans": [
                    {"start": s.start, "end": s.end, "type": s.type, "score": s.score}
                    for s in result.spans
                ],
                "withhold": result.verdict == "withhold",
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            progress.update(task, advance=len(text.encode()) + 1)


@privacy_app.command()
def redact(
    input: InputArg,
    output: OutputOpt,
    text_field: TextFieldOpt = "text",
    policy: Annotated[
        str, typer.Option(help="placeholder ([EMAIL]), pseudonym ([PERSON_1]) or withhold.")
    ] = "placeholder",
) -> None:
    """Write each line with its text field redacted; other fields are copied unchanged."""
    if policy not in POLICIES:
        raise InvalidInput(
            f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}",
            details={"field": "policy", "allowed": list(POLICIES)},
        )
    redactor = Redactor(policy=policy)  # narrowed to Policy by the membership test
    with _progress(input) as progress, open_output(output) as out:
        task = progress.add_task("redacting", total=input.stat().st_size)
        for _, record, text in _records(input, text_field):
            result = redactor.redact(text)
            out.write(json.dumps({**record, text_field: result.text}, ensure_ascii=False) + "\n")
            progress.update(task, advance=len(text.encode()) + 1)


@privacy_app.command()
def withheld(
    project: Annotated[str, typer.Argument(help="Project id or name")],
    database_url: DatabaseUrl = None,
) -> None:
    """How many of a project's items the gate withheld, and why."""
    from loupe.services.access import Actor
    from loupe.services.compliance.withheld import withheld_counts

    with open_database(database_url) as db, db.transaction() as session:
        counts = withheld_counts(session, Actor.system(), resolve_project(session, project))
    reasons = ", ".join(f"{n} {reason}" for reason, n in counts.by_reason.items())
    console.print(f"project {counts.project_id}: {counts.total} withheld ({reasons or 'none'})")


@privacy_app.command("retry-withheld")
def retry_withheld(
    project: Annotated[
        str | None, typer.Argument(help="Project id or name; omit: every project")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Gate withheld items again (after a gate upgrade or a policy change); release those
    that now pass. The server does this in the background too."""
    from loupe.services.access import Actor
    from loupe.services.compliance import withheld as service
    from loupe.services.compliance.gate import gate_for

    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project) if project is not None else None
        with gate_for(settings(database_url)) as gate:
            run = service.retry_withheld(session, Actor.system(), gate, project_id=project_id)
    console.print(f"{run.retried} withheld items gated again: {run.released} released")
