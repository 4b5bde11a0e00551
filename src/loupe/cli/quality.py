"""``loupe gold`` and ``loupe quality``: honeypots, re-fits and agreement reports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project, settings
from loupe.errors import InvalidInput
from loupe.formats import decode_json
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.quality import agreement, gold, refits

__all__ = ["gold_app", "quality_app"]

gold_app = typer.Typer(help="Gold (honeypot) items with known answers.", no_args_is_help=True)
quality_app = typer.Typer(help="Agreement, annotator quality and re-fits.", no_args_is_help=True)


def _read_gold(path: Path) -> list[tuple[str, Any]]:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark.
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        try:
            if not reader.fieldnames or not {"id", "answer"} <= set(reader.fieldnames):
                raise InvalidInput(f"{path}: the header must name the columns id and answer")
            rows = [(row, reader.line_num) for row in reader]
        except csv.Error as exc:
            raise InvalidInput(f"{path}: malformed CSV: {exc}") from None
    answers: list[tuple[str, Any]] = []
    for row, line in rows:
        answer: Any = row["answer"]
        if None in row or answer is None:
            raise InvalidInput(f"{path}: line {line}: give one id and one answer, no other cells")
        if answer.startswith("["):
            try:
                answer = decode_json(answer)
            except ValueError as exc:
                raise InvalidInput(f"{path}: line {line}: bad JSON list ({exc})") from None
        answers.append((row["id"], answer))
    if not answers:
        raise InvalidInput(f"{path}: no rows")
    return answers


@gold_app.command("import")
def import_gold(
    project: Annotated[str, typer.Argument(help="Project id or name")],
    path: Annotated[Path, typer.Argument(help="CSV with columns id,answer")],
    database_url: DatabaseUrl = None,
) -> None:
    """Mark imported items as gold, with their known answers (all or nothing)."""
    answers = _read_gold(path)
    with (
        open_database(database_url) as db,
        db.transaction() as session,
        gate_for(settings(database_url)) as gate,
    ):
        marked = gold.set_gold(
            session, Actor.system(), resolve_project(session, project), answers, gate=gate
        )
    console.print(f"{marked} gold items")


@quality_app.command("refit")
def refit(project: str, database_url: DatabaseUrl = None) -> None:
    """Re-fit the project's aggregator on all labels now."""
    with open_database(database_url) as db:
        with db.transaction(readonly=True) as session:
            project_id = resolve_project(session, project)
        # Short write transactions: a running server's submits do not wait for the fit.
        report = refits.refit_in_steps(db, project_id)
    console.print(
        f"{report.method}: {report.n_labels} labels, {report.n_items} items, "
        f"{report.n_workers} annotators"
    )


@quality_app.command("report")
def report(project: str, database_url: DatabaseUrl = None) -> None:
    """Agreement and per-annotator gold accuracy."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        result = agreement.quality_report(
            session, Actor.system(), resolve_project(session, project)
        )
    console.print(
        f"labels {result.n_labels} on {result.n_items_labelled} items; "
        f"Krippendorff's alpha {result.krippendorff_alpha}; Fleiss' kappa {result.fleiss_kappa}; "
        f"escalated {result.escalated}"
    )
    table = Table("annotator", "gold answered", "accuracy", "95% CI", "skill", "paused")
    for stat in result.gold:
        table.add_row(
            str(stat.user_id),
            str(stat.answered),
            f"{stat.accuracy:.2f}",
            f"{stat.ci_low:.2f}-{stat.ci_high:.2f}",
            f"{result.skills.get(stat.user_id, float('nan')):.2f}",
            stat.paused_reason or "",
        )
    console.print(table)
