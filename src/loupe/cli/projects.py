"""``loupe projects``: create, list, members; archive, unarchive, duplicate, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project, resolve_user
from loupe.errors import InvalidInput
from loupe.formats import decode_json
from loupe.services.access import Actor
from loupe.services.projects import definition

__all__ = ["projects_app"]

projects_app = typer.Typer(help="Projects: label schema, guidelines, overlap, members.")

ProjectRef = Annotated[str, typer.Argument(help="The project's id or name")]


def _config(labels: str | None, config: Path | None) -> dict[str, Any]:
    if (labels is None) == (config is None):
        raise InvalidInput("give either --labels a,b,c or --config schema.json (one of them)")
    if config is not None:
        try:
            loaded: dict[str, Any] = decode_json(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"--config {config}: cannot read a JSON schema ({exc})") from None
        return loaded
    assert labels is not None
    keys = [key.strip() for key in labels.split(",") if key.strip()]
    return {"task": {"type": "single_choice", "labels": [{"key": key} for key in keys]}}


@projects_app.command("create")
def create(
    name: str,
    labels: Annotated[str | None, typer.Option(help="Comma-separated label keys")] = None,
    config: Annotated[Path | None, typer.Option(help="A label-schema JSON file")] = None,
    overlap: Annotated[int, typer.Option(help="Labels wanted per item")] = 1,
    guidelines: Annotated[Path | None, typer.Option(help="A text/Markdown file")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a single-choice project from --labels, or any schema from --config."""
    text = guidelines.read_text(encoding="utf-8") if guidelines else ""
    with open_database(database_url) as db, db.transaction() as session:
        project = definition.create_project(
            session,
            Actor.system(),
            name=name,
            config=_config(labels, config),
            overlap=overlap,
            guidelines=text,
        )
    console.print(f"project {project.name!r} created, id {project.id}")


@projects_app.command("list")
def list_projects(
    archived: Annotated[
        bool, typer.Option("--archived", help="List the archived projects instead")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List projects (the live ones; --archived lists the archived ones)."""
    table = Table("id", "name", "overlap", "config version")
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        after = 0
        while rows := definition.list_projects(
            session, Actor.system(), after_id=after, limit=500, archived=archived
        ):
            for project in rows:
                table.add_row(
                    str(project.id), project.name, str(project.overlap), str(project.config_version)
                )
            after = rows[-1].id
    console.print(table)


@projects_app.command("add-member")
def add_member(
    project: str,
    username: str,
    role: Annotated[str, typer.Option(help="manager, annotator, reviewer or auditor")],
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user to a project (or change their role in it)."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        user_id = resolve_user(session, username)
        definition.add_member(session, Actor.system(), project_id, user_id=user_id, role=role)
    console.print(f"{username} is now {role} in project {project}")


@projects_app.command("archive")
def archive(project: ProjectRef, database_url: DatabaseUrl = None) -> None:
    """Archive a project: it serves no tasks, reviews or expert work and takes no imports or
    labels; exports, the dashboard and wallets still read it. Audited."""
    from loupe.services.projects import project_lifecycle

    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        project_lifecycle.archive_project(session, Actor.system(), project_id)
    console.print(f"project {project} archived; `loupe projects unarchive` reopens it")


@projects_app.command("unarchive")
def unarchive(project: ProjectRef, database_url: DatabaseUrl = None) -> None:
    """Reopen an archived project. Audited."""
    from loupe.services.projects import project_lifecycle

    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        project_lifecycle.unarchive_project(session, Actor.system(), project_id)
    console.print(f"project {project} reopened")


@projects_app.command("duplicate")
def duplicate(
    project: ProjectRef,
    name: Annotated[str, typer.Option("--name", help="The new project's name")],
    members: Annotated[bool, typer.Option("--members", help="Copy the members too")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """A new project with this one's configuration (schema, guidelines, overlap, privacy
    and loop settings, rate card), and with --members its members; no items. Audited."""
    from loupe.services.projects import project_lifecycle

    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        copy = project_lifecycle.duplicate_project(
            session, Actor.system(), project_id, name=name, members=members
        )
    console.print(f"project {copy.name!r} created from {project}, id {copy.id}")


@projects_app.command("delete")
def delete(
    project: ProjectRef,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask for the project's name to confirm")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete a project: its items, originals, labels, comments and members. The payment
    log keeps its entries (it still verifies; balances stay payable); the audit log stays.
    Asks for the project's name unless --yes. Audited."""
    from loupe.cli.session import settings
    from loupe.learning.persistence import ModelStore
    from loupe.services.projects import project_lifecycle

    config = settings(database_url)
    with open_database(database_url) as db:
        with db.transaction(readonly=True) as session:
            project_id = resolve_project(session, project)
            name = definition.get_project(session, Actor.system(), project_id).name
        confirm = name if yes else typer.prompt(f"Type the project's name ({name}) to delete it")
        with db.transaction() as session:
            deletion = project_lifecycle.delete_project(
                session, Actor.system(), project_id, confirm=confirm
            )
        # After the commit: the scrub only sees committed deletions.
        done = project_lifecycle.finish_deletion(
            db, deletion, store=ModelStore(config.resolved_model_dir())
        )
    console.print(
        f"project {name!r} (id {project_id}) deleted: {deletion.items_deleted} items, "
        f"{deletion.labels_deleted} labels, {deletion.comments_deleted} comments, "
        f"{deletion.keys_shredded} keys shredded, {len(done.model_files_deleted)} model files; "
        f"{deletion.ledger_entries_kept} payment-log entries kept"
    )
