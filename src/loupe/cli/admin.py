"""``loupe init``, ``loupe serve`` and ``loupe users``."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from loupe.cli.serving import serve
from loupe.cli.session import console, open_database, resolve_user, settings
from loupe.db.models import utcnow
from loupe.services.access import Actor
from loupe.services.compliance.key_binding import bind_key_dir, check_key_dir
from loupe.services.compliance.vault import init_master_key
from loupe.services.payments.ledger_keys import init_keys
from loupe.services.people import users
from loupe.settings import Settings

__all__ = ["register", "serve", "users_app"]

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="LOUPE_DATABASE_URL", help="Default: ./loupe.db"),
]

users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)


def _init_ledger_keys(config: Settings, key_dir: Path) -> None:
    keys = init_keys(key_dir, origin=config.ledger_origin)
    console.print(f"ledger keys in {key_dir} (keep private; back up outside the database)")
    console.print(f"ledger verifier key (publish): {keys.signer.verifier_key}", soft_wrap=True)
    master = init_master_key(key_dir)
    console.print(f"privacy master key in {master} (back it up: without it no original opens)")


def init(database_url: DatabaseUrl = None, admin: str = "admin") -> None:
    """Create (or migrate) the database and the ledger keys and, the first time, an admin
    with a token."""
    config = settings(database_url)
    key_dir = config.resolved_key_dir()  # before the database file exists (its default)
    with open_database(database_url) as db:
        # Refuse before creating keys in a directory that serves another database.
        check_key_dir(db, key_dir)
        _init_ledger_keys(config, key_dir)
        bind_key_dir(db, key_dir)
        # Now that the key directory is known to be this database's: subject ids an older
        # Loupe stored in clear become keyed refs (idempotent; cheap when none are left).
        from loupe.cli.subjects import convert_stored_ids

        convert_stored_ids(db, config)
    with open_database(database_url) as db, db.transaction() as session:
        if users.count_users(session) > 0:
            console.print(f"database ready at {db.url} (users exist; no new admin created)")
            return
        user = users.create_user(session, Actor.system(), username=admin, role="admin")
        issued = users.issue_token(session, Actor.system(), user_id=user.id, name="init")
    console.print(f"database ready at {db.url}")
    console.print(f"admin user {admin!r} created; API token (shown once):")
    console.print(issued.secret, soft_wrap=True)


@users_app.command("create")
def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="admin, manager, annotator, reviewer or auditor")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user and print their first API token."""
    with open_database(database_url) as db, db.transaction() as session:
        user = users.create_user(session, Actor.system(), username=username, role=role)
        issued = users.issue_token(session, Actor.system(), user_id=user.id, name="cli")
    console.print(f"user {username!r} ({role}) created, id {user.id}; API token (shown once):")
    console.print(issued.secret, soft_wrap=True)


@users_app.command("token")
def new_token(
    username: str,
    name: str = "cli",
    expires_days: Annotated[
        float | None,
        typer.Option(
            min=0.001, help="The token stops working after this many days (default: never)"
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue another API token for a user (optionally one that expires)."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, username)
        issued = users.issue_token(
            session, Actor.system(), user_id=user_id, name=name, expires_at=expires_at
        )
    console.print(issued.secret, soft_wrap=True)
    if expires_at is not None:
        console.print(f"expires {expires_at.isoformat(timespec='seconds')}")


@users_app.command("deactivate")
def deactivate(username: str, database_url: DatabaseUrl = None) -> None:
    """Deactivate a user: no sign-in, sessions and tokens stop working, leases released."""
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, username)
        users.set_active(session, Actor.system(), user_id=user_id, active=False)
    console.print(f"user {username!r} deactivated")


@users_app.command("reactivate")
def reactivate(username: str, database_url: DatabaseUrl = None) -> None:
    """Reactivate a deactivated user."""
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, username)
        users.set_active(session, Actor.system(), user_id=user_id, active=True)
    console.print(f"user {username!r} reactivated")


@users_app.command("revoke")
def revoke(token_id: int, database_url: DatabaseUrl = None) -> None:
    """Revoke an API token by id."""
    with open_database(database_url) as db, db.transaction() as session:
        users.revoke_token(session, Actor.system(), token_id=token_id)
    console.print(f"token {token_id} revoked")


@users_app.command("password")
def set_password(username: str, database_url: DatabaseUrl = None) -> None:
    """Set a user's password for the web UI: prompted (twice) at a terminal, else read
    from the first line of stdin (`echo "$PW" | loupe users password maya`)."""
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, username)
        users.set_password(session, Actor.system(), user_id=user_id, password=password)
    console.print(f"password set for {username!r} (their sessions ended); sign in at /login")


@users_app.command("list")
def list_users(database_url: DatabaseUrl = None) -> None:
    """List users."""
    from rich.table import Table

    table = Table("id", "username", "role", "active")
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        after = 0
        while rows := users.list_users(session, Actor.system(), after_id=after, limit=500):
            for user in rows:
                table.add_row(str(user.id), user.username, user.role, str(user.is_active))
            after = rows[-1].id
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
