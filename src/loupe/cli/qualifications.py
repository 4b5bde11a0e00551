"""``loupe qualifications``: write a project's qualification tests and list them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project
from loupe.errors import InvalidInput
from loupe.services.access import Actor
from loupe.services.quality import qualifications

__all__ = ["qualifications_app", "read_questions"]

qualifications_app = typer.Typer(
    help="Qualification tests: known questions that grant a domain level.", no_args_is_help=True
)

ProjectArg = Annotated[str, typer.Argument(help="Project id or name")]


def read_questions(path: Path) -> list[dict[str, Any]]:
    """Questions from JSON Lines: ``{"data": {...}, "answer": ...}`` or a flat object whose
    fields other than ``answer`` are the question's data (``{"text": ..., "answer": ...}``)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"field": "questions"})
    questions: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as stream:
        for lineno, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"{path}:{lineno}: not valid JSON ({exc.msg})", details={"line": lineno}
                ) from None
            if not isinstance(row, dict) or "answer" not in row:
                raise InvalidInput(
                    f'{path}:{lineno}: expected an object with "answer" and the question '
                    '(its "text", or "data": {...})',
                    details={"line": lineno},
                )
            if "data" in row:
                questions.append(row)
            else:
                data = {key: value for key, value in row.items() if key != "answer"}
                questions.append({"data": data, "answer": row["answer"]})
    return questions


@qualifications_app.command("create")
def create(
    project: ProjectArg,
    name: Annotated[str, typer.Option(help="Unique within the project")],
    domain: Annotated[str, typer.Option(help="The domain whose level a pass grants")],
    questions: Annotated[
        Path, typer.Option(help='JSON Lines: {"text": ..., "answer": ...} per question')
    ],
    level: Annotated[int, typer.Option(help="Granted on a pass: 1, 2 or 3")] = 1,
    pass_mark: Annotated[
        float, typer.Option(help="Share of questions to get right")
    ] = qualifications.DEFAULT_PASS_MARK,
    max_attempts: Annotated[
        int, typer.Option(help="Tries allowed")
    ] = qualifications.DEFAULT_MAX_ATTEMPTS,
    retry_after_hours: Annotated[
        int, typer.Option(help="Wait after a failed attempt")
    ] = qualifications.DEFAULT_RETRY_AFTER_HOURS,
    valid_days: Annotated[
        int | None, typer.Option(help="How long a granted level lasts; default: until revoked")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a qualification test from questions with known answers. Audited."""
    rows = read_questions(questions)
    with open_database(database_url) as db, db.transaction() as session:
        test = qualifications.create_test(
            session,
            Actor.system(),
            resolve_project(session, project),
            name=name,
            domain=domain,
            level=level,
            pass_mark=pass_mark,
            max_attempts=max_attempts,
            retry_after_hours=retry_after_hours,
            valid_days=valid_days,
            questions=rows,
        )
    console.print(
        f"qualification test {test.name!r} created, id {test.id}: {test.n_questions} questions, "
        f"level {test.level} in {test.domain}"
    )


@qualifications_app.command("list")
def list_tests(project: ProjectArg, database_url: DatabaseUrl = None) -> None:
    """List a project's qualification tests."""
    table = Table(
        "id", "name", "domain", "level", "pass mark", "questions", "attempts", "retry after",
        "valid days",
    )  # fmt: skip
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        tests = qualifications.list_tests(
            session, Actor.system(), resolve_project(session, project)
        )
    for test in tests:
        table.add_row(
            str(test.id),
            test.name,
            test.domain,
            str(test.level),
            f"{test.pass_mark:.0%}",
            str(test.n_questions),
            str(test.max_attempts),
            f"{test.retry_after_hours} h",
            str(test.valid_days) if test.valid_days else "-",
        )
    console.print(table)
