"""``loupe media``: housekeeping of the media blob store."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, settings
from loupe.errors import InvalidInput

__all__ = ["media_app"]

media_app = typer.Typer(help="Media: delete blobs no item references (orphans).")


@media_app.command("gc")
def gc(
    grace: Annotated[
        float,
        typer.Option(
            help="Keep orphans younger than this many hours (an import puts its blobs before "
            "it commits the items that reference them)"
        ),
    ] = 1.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete media blobs (served images and sealed originals) that no item references and
    that are older than --grace hours: what a failed or interrupted import left, or an
    erasure whose blob deletion could not finish. Prints what it freed."""
    if grace < 0:
        raise InvalidInput("--grace: a number of hours, 0 or more")
    from loupe.services.projects.media_gc import collect_garbage
    from loupe.storage import blob_store_for

    config = settings(database_url)
    store = blob_store_for(config)
    with open_database(database_url) as db:
        run = collect_garbage(db, store, grace=timedelta(hours=grace), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for key in run.deleted:
        console.print(f"{verb} {key}", soft_wrap=True)
    console.print(
        f"{verb} {len(run.deleted)} orphan blobs ({run.bytes_freed:,} bytes); "
        f"{run.referenced} referenced, {run.kept_young} orphans younger than {grace:g} h kept",
        soft_wrap=True,
    )
