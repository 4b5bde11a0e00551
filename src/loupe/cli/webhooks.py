"""``loupe webhooks``: a project's webhooks, their delivery log, and one delivery pass."""

from __future__ import annotations

from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_project, settings
from loupe.services.access import Actor
from loupe.services.projects import webhooks

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    help="Webhooks: signed event deliveries to other systems, with retries.",
    no_args_is_help=True,
)

Project = Annotated[str, typer.Argument(help="Project id or name")]


@webhooks_app.command("add")
def add(
    project: Project,
    url: Annotated[str, typer.Argument(help="An http:// or https:// URL")],
    event: Annotated[
        list[str],
        typer.Option("--event", "-e", help=f"Repeatable: {', '.join(webhooks.EVENTS)}"),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Register a webhook; print its signing secret (shown only this once). Audited."""
    config = settings(database_url)
    key = webhooks.secret_key(config.resolved_key_dir())
    policy = webhooks.webhook_policy(config)
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        created = webhooks.create_webhook(
            session, Actor.system(), project_id, url=url, events=event, key=key, policy=policy
        )
        webhook_id = created.webhook.id
    console.print(f"webhook {webhook_id}: {url} ({', '.join(sorted(set(event)))})", markup=False)
    console.print(f"secret (shown once): {created.secret}", markup=False)


@webhooks_app.command("list")
def list_command(project: Project, database_url: DatabaseUrl = None) -> None:
    """List a project's webhooks (never their secrets)."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        rows = webhooks.list_webhooks(session, Actor.system(), project_id)
        lines = [
            f"{row.id}\t{'active' if row.active else 'paused'}\t{row.url}\t{','.join(row.events)}"
            for row in rows
        ]
    for line in lines or ["(no webhooks)"]:
        typer.echo(line)  # tab-separated, for scripts


@webhooks_app.command("remove")
def remove(project: Project, webhook_id: int, database_url: DatabaseUrl = None) -> None:
    """Delete a webhook and its delivery log. Audited."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        webhooks.delete_webhook(session, Actor.system(), project_id, webhook_id)
    console.print(f"deleted webhook {webhook_id}")


@webhooks_app.command("ping")
def ping(project: Project, webhook_id: int, database_url: DatabaseUrl = None) -> None:
    """Queue a ping event for a webhook (sent by the next delivery pass)."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        delivery = webhooks.ping(session, Actor.system(), project_id, webhook_id)
        delivery_id = delivery.delivery_id
    console.print(f"queued ping {delivery_id}")


@webhooks_app.command("deliveries")
def deliveries(
    project: Project,
    status: Annotated[
        str | None, typer.Option(help="pending, delivering, delivered or failed")
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest first, at most 200")] = 50,
    database_url: DatabaseUrl = None,
) -> None:
    """The delivery log: delivery id, webhook, event, status, attempts, last error."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        project_id = resolve_project(session, project)
        page = webhooks.list_deliveries(
            session, Actor.system(), project_id, status=status, limit=limit
        )
        lines = [
            f"{row.delivery_id}\t{row.webhook_id}\t{row.event}\t{row.status}\t"
            f"{row.attempts}\t{row.last_status_code or ''}\t{row.last_error or ''}"
            for row in page.deliveries
        ]
    for line in lines or ["(no deliveries)"]:
        typer.echo(line)  # tab-separated, for scripts


@webhooks_app.command("redeliver")
def redeliver(project: Project, delivery_id: str, database_url: DatabaseUrl = None) -> None:
    """Queue a delivery's event again for its webhook (a new delivery id)."""
    with open_database(database_url) as db, db.transaction() as session:
        project_id = resolve_project(session, project)
        again = webhooks.redeliver(session, Actor.system(), project_id, delivery_id)
        new_id = again.delivery_id
    console.print(f"queued {new_id}")


@webhooks_app.command("deliver")
def deliver(database_url: DatabaseUrl = None) -> None:
    """Send every due delivery once (for cron, when the server's loop is off)."""
    from loupe.services.projects.webhook_delivery import deliver_all

    with open_database(database_url) as db:
        run = deliver_all(db, settings(database_url))
    console.print(f"delivered {run.delivered}, retrying {run.retrying}, failed {run.failed}")
