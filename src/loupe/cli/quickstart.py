"""``loupe quickstart``: a seeded project and a running server, in one command."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl, serve
from loupe.cli.session import console, open_database
from loupe.demo.utterances import INTENTS, generate
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.people import users
from loupe.services.projects import definition, items

__all__ = ["register"]

PROJECT = "wearable-assistant-intents"
GUIDELINES = """Choose the skill the wearer asked the glasses for.
Use out_of_scope for anything the glasses cannot do (medical, legal advice, chit-chat)."""


def quickstart(
    database_url: DatabaseUrl = None,
    items_count: Annotated[int, typer.Option("--items", min=1, help="Utterances to seed")] = 500,
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only")] = False,
) -> None:
    """Seed a wearable-assistant intent project (generated utterances) and serve it."""
    system = Actor.system()
    with open_database(database_url) as db, db.transaction() as session:
        if definition.find_project_id(session, PROJECT) is not None:
            console.print(
                f"project {PROJECT!r} exists already; serving it (a new web UI password: "
                "`loupe users password qs-annotator`)"
            )
            tokens: dict[str, str] = {}
            passwords: dict[str, str] = {}
        else:
            admin = users.create_user(session, system, username="qs-admin", role="admin")
            annotator = users.create_user(
                session, system, username="qs-annotator", role="annotator"
            )
            tokens = {
                user.username: users.issue_token(session, system, user_id=user.id).secret
                for user in (admin, annotator)
            }
            # A way into the web UI as well as the API: one generated password each.
            passwords = {user.username: secrets.token_urlsafe(12) for user in (admin, annotator)}
            for user in (admin, annotator):
                users.set_password(
                    session, system, user_id=user.id, password=passwords[user.username]
                )
            config = {"task": {"type": "single_choice", "labels": [{"key": k} for k in INTENTS]}}
            project = definition.create_project(
                session, system, name=PROJECT, config=config, overlap=1, guidelines=GUIDELINES
            )
            definition.add_member(
                session, system, project.id, user_id=annotator.id, role="annotator"
            )
            records = [
                parse_item(
                    {k: v for k, v in row.items() if k != "intent"}, where="demo", text_field="text"
                )
                for row in generate(items_count, seed=7)
            ]
            items.insert_items(session, system, project.id, records)
    if tokens:
        base = f"http://127.0.0.1:{port}/api/v1"
        console.print(f"seeded project {PROJECT!r} with {items_count} utterances in {db.url}")
        console.print(f"web UI: sign in at http://127.0.0.1:{port}/login as")
        for name, password in passwords.items():
            console.print(f"  {name} / {password}", soft_wrap=True)
        console.print("API tokens (shown once):")
        for name, secret in tokens.items():
            console.print(f"  {name}: {secret}", soft_wrap=True)
        console.print("try, as the annotator:")
        console.print(
            f"  curl -s -X POST -H 'Authorization: Bearer {tokens['qs-annotator']}' "
            f"{base}/projects/1/tasks/next",
            soft_wrap=True,
        )
    if not no_serve:
        serve(database_url=database_url, port=port)


def register(app: typer.Typer) -> None:
    app.command("quickstart")(quickstart)
