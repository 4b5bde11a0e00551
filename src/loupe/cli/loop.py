"""``loupe loop``: the model loop's settings, retraining and label-efficiency report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import (
    console,
    open_database,
    open_output,
    resolve_project,
    settings,
    to_stdout,
)
from loupe.errors import InvalidInput
from loupe.learning.persistence import ModelStore
from loupe.reports.label_efficiency import render_html
from loupe.services.access import Actor
from loupe.services.model_loop.efficiency import label_efficiency
from loupe.services.model_loop.loop_settings import LoopSettings, loop_settings, set_loop_settings
from loupe.services.model_loop.model_versions import list_model_versions, retrain_in_steps

__all__ = ["loop_app"]

loop_app = typer.Typer(
    help="The model loop: selection settings, retraining, reports.", no_args_is_help=True
)


def _mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        try:
            mix[name.strip()] = float(weight or 1)
        except ValueError:
            raise InvalidInput(
                f"--mix: {part!r} is not name=weight", details={"field": "mix"}
            ) from None
    return mix


@loop_app.command("configure")
def configure_command(
    project: str,
    mix: Annotated[
        str | None, typer.Option(help="Strategy weights, e.g. margin=0.6,novelty=0.4")
    ] = None,
    audit_share: Annotated[
        float | None, typer.Option(help="Random audit share of each selection")
    ] = None,
    label_share: Annotated[
        float | None, typer.Option(help="Most of each batch sent to people")
    ] = None,
    label_budget: Annotated[int | None, typer.Option(help="Most items ever sent to people")] = None,
    oos_threshold: Annotated[
        float | None, typer.Option(help="Below this confidence: out of scope")
    ] = None,
    trainer: Annotated[str | None, typer.Option(help="tfidf-linear or embeddings")] = None,
    shadow_min_items: Annotated[
        int | None,
        typer.Option(help="Live labelled items before a shadowed challenger is judged (0: off)"),
    ] = None,
    shadow_max_drop: Annotated[
        float | None,
        typer.Option(help="Largest drop in agreement with people a challenger may show"),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show or change a project's loop settings."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        current = loop_settings(session, Actor.system(), project_id)
        changes = (mix, audit_share, label_share, label_budget, oos_threshold, trainer,
                   shadow_min_items, shadow_max_drop)  # fmt: skip
        if any(v is not None for v in changes):
            current = set_loop_settings(
                session,
                Actor.system(),
                project_id,
                LoopSettings(
                    mix=_mix(mix) if mix else current.mix,
                    audit_share=current.audit_share if audit_share is None else audit_share,
                    label_share=current.label_share if label_share is None else label_share,
                    label_budget=current.label_budget if label_budget is None else label_budget,
                    oos_threshold=current.oos_threshold if oos_threshold is None else oos_threshold,
                    trainer=trainer or current.trainer,
                    seed=current.seed,
                    shadow_min_items=(
                        current.shadow_min_items if shadow_min_items is None else shadow_min_items
                    ),
                    shadow_max_drop=(
                        current.shadow_max_drop if shadow_max_drop is None else shadow_max_drop
                    ),
                ),
            )
    console.print(current)


@loop_app.command("retrain")
def retrain_command(project: str, database_url: DatabaseUrl = None) -> None:
    """Retrain on the resolved labels, evaluate on the gold set, promote if better."""
    store = ModelStore(settings(database_url).resolved_model_dir())
    with open_database(database_url) as db:
        with db.transaction(readonly=True) as session:
            project_id = resolve_project(session, project)
        # The fit runs with no transaction open: a server's annotators never wait for it.
        record = retrain_in_steps(db, Actor.system(), project_id, store=store).record
        state = "promoted" if record.promoted else "not promoted"
        if record.shadow_status == "pending":  # the champion serves while it is shadowed
            state = "in shadow"
        message = (
            f"model v{record.version} ({record.trainer}) on {len(record.training_ids)} items: "
            f"accuracy {record.metrics['accuracy']:.3f}, "
            f"macro F1 {record.metrics['macro_f1']:.3f}; {state}: {record.reason}"
        )
    console.print(message)


@loop_app.command("models")
def models_command(project: str, database_url: DatabaseUrl = None) -> None:
    """List the project's model versions, newest first."""
    table = Table(
        "version", "trainer", "items", "accuracy", "macro F1", "out of scope", "promoted", "reason"
    )
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        for row in list_model_versions(session, Actor.system(), project_id):
            table.add_row(
                str(row.version), row.trainer, str(len(row.training_ids)),
                f"{row.metrics['accuracy']:.3f}", f"{row.metrics['macro_f1']:.3f}",
                row.metrics.get("oos_rule") or "not recorded",
                "yes" if row.promoted else (row.shadow_status or "no"), row.reason,
            )  # fmt: skip
    console.print(table)


@loop_app.command("report")
def report_command(
    project: str,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (- for stdout)")
    ] = Path("report.html"),
    database_url: DatabaseUrl = None,
) -> None:
    """Write the label-efficiency report: a self-contained HTML page with an inline SVG chart."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        report = label_efficiency(session, Actor.system(), project_id)
    with open_output(output) as out:
        out.write(render_html(report))
    if to_stdout(output):
        return
    console.print(f"report written to {output} ({len(report.points)} model version(s))")
