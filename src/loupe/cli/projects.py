"""``loupe projects``: create, list, members."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project, resolve_user
from loupe.errors import InvalidInput
from loupe.services import projects
from loupe.services.access import Actor

__all__ = ["projects_app"]

projects_app = typer.Typer(help="Projects: label schema, guidelines, overlap, members.")


def _config(labels: str | None, config: Path | None) -> dict[str, Any]:
    if (labels is None) == (config is None):
        raise InvalidInput("give either --labels a,b,c or --config schema.json (one of them)")
    if config is not None:
        try:
            loaded: dict[str, Any] = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
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
        project = projects.create_project(
            session,
            Actor.system(),
            name=name,
            config=_config(labels, config),
            overlap=overlap,
            guidelines=text,
        )
    console.print(f"project {project.name!r} created, id {project.id}")


@projects_app.command("list")
def list_projects(database_url: DatabaseUrl = None) -> None:
    """List projects."""
    table = Table("id", "name", "overlap", "config version")
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        after = 0
        while rows := projects.list_projects(session, Actor.system(), after_id=after, limit=500):
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
        projects.add_member(session, Actor.system(), project_id, user_id=user_id, role=role)
    console.print(f"{username} is now {role} in project {project}")
