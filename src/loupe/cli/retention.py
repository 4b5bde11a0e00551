"""``loupe retention``: set a project's retention, and purge what is past it."""

from __future__ import annotations

from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project
from loupe.services.access import Actor
from loupe.services.compliance import privacy_settings, retention

__all__ = ["retention_app"]

retention_app = typer.Typer(help="Retention: purge items past their project's age limit.")


@retention_app.command("set")
def set_days(
    project: Annotated[str, typer.Argument(help="Project id or name")],
    days: Annotated[
        int | None, typer.Argument(help="Keep items this many days; omit: forever")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set (or, without DAYS, clear) a project's retention. Audited."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        privacy_settings.set_privacy(session, Actor.system(), project_id, retention_days=days)
    console.print(f"project {project_id}: keep items {f'{days} days' if days else 'forever'}")


@retention_app.command("run")
def run(database_url: DatabaseUrl = None) -> None:
    """Purge every project's items older than its retention (run daily, e.g. from cron)."""
    with open_database(database_url) as db, db.transaction() as session:
        result = retention.run_retention(session, Actor.system())
    for purge in result.purges:
        console.print(
            f"project {purge.project_id}: {purge.items_deleted} items older than "
            f"{purge.retention_days} days purged ({purge.labels_deleted} labels, "
            f"{purge.keys_shredded} keys shredded)"
        )
    console.print(f"retention run: {result.items_deleted} items purged")
