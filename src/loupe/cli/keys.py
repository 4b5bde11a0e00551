"""``loupe keys``: rotate the privacy master key, destroy retired ones, and bind the key
directory to its database."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, settings
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log, key_binding, master_keys

__all__ = ["keys_app"]

keys_app = typer.Typer(
    help="Privacy master key: rotate it, and destroy retired keys past the backup retention.",
    no_args_is_help=True,
)


@keys_app.command("rotate")
def rotate(database_url: DatabaseUrl = None) -> None:
    """Re-wrap every subject key under a new master key and retire the old one to
    `retired/` in the key directory (run at least as often as backups are taken, e.g.
    daily). Finishes an interrupted rotation first. Audited."""
    key_dir = settings(database_url).resolved_key_dir()
    with open_database(database_url) as db:
        key_binding.check_key_dir(db, key_dir)
        done = master_keys.rotate_master_key(db, Actor.system(), key_dir=key_dir)
    if done.finished_earlier:
        console.print("finished an interrupted rotation first")
    console.print(
        f"master key rotated: {done.rewrapped} subject keys re-wrapped; "
        f"old key retired to {done.retired}",
        soft_wrap=True,
        markup=False,
    )


@keys_app.command("destroy-retired")
def destroy_retired(
    older_than_days: Annotated[
        int,
        typer.Option(
            "--older-than-days",
            min=0,
            help="Destroy keys retired more than this many days ago: your backup retention",
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Overwrite and delete retired master keys older than the backup retention period:
    backups taken while they were current can no longer be opened. Audited."""
    actor = Actor.system()
    authorize(actor, "subjects.manage")
    key_dir = settings(database_url).resolved_key_dir()
    with open_database(database_url) as db:
        key_binding.check_key_dir(db, key_dir)
        with db.transaction() as session:
            gone = master_keys.destroy_retired_master_keys(key_dir, timedelta(days=older_than_days))
            audit_log.record(
                session,
                actor,
                "keys.retired_destroyed",
                target="retired",
                details={
                    "older_than_days": older_than_days,
                    "destroyed": [key.path.name for key in gone],
                },
            )
    for key in gone:
        console.print(f"destroyed {key.path.name}")
    console.print(f"{len(gone)} retired master keys destroyed")


@keys_app.command("bind")
def bind(database_url: DatabaseUrl = None) -> None:
    """Bind the key directory to this database (its `database-id` file and the database
    name one id). Done by `loupe init` and `loupe serve`; run it to adopt a directory a
    refusal asked you to check (one holding only this database's keys). Two different
    ids are still refused."""
    key_dir = settings(database_url).resolved_key_dir()
    with open_database(database_url) as db:
        bound = key_binding.bind_key_dir(db, key_dir, adopt=True)
    console.print(
        f"key directory {key_dir} bound to this database (id {bound})",
        soft_wrap=True,
        markup=False,
    )
