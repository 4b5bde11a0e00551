"""``loupe comments``: add and list comments on items (gated like any typed text)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project
from loupe.services.access import Actor
from loupe.services.labelling import comments

__all__ = ["comments_app"]

comments_app = typer.Typer(
    help="Comments on items: add and list (the privacy gate redacts them before storage).",
    no_args_is_help=True,
)

ProjectRef = Annotated[str, typer.Argument(help="The project's id or name")]
ItemId = Annotated[int, typer.Argument(help="The item's id")]


@comments_app.command("add")
def add(project: ProjectRef, item: ItemId, body: str, database_url: DatabaseUrl = None) -> None:
    """Comment on an item; the project's privacy gate redacts the text before it is stored."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        comment = comments.add_comment(session, Actor.system(), project_id, item, body=body)
    note = " (personal data redacted)" if comment.redacted else ""
    console.print(f"comment {comment.id} added to item {item}{note}", markup=False)


@comments_app.command("list")
def list_comments(project: ProjectRef, item: ItemId, database_url: DatabaseUrl = None) -> None:
    """An item's comments, oldest first."""
    table = Table("id", "when", "author", "comment")
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        for comment in comments.list_comments(session, Actor.system(), project_id, item):
            table.add_row(
                str(comment.id),
                comment.created_at.isoformat(timespec="seconds"),
                comment.author or "system",
                comment.body,
            )
    console.print(table)
