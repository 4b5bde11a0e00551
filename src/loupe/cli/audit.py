"""``loupe audit``: verify the hash chain, list events."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database
from loupe.errors import AuditIntegrityError
from loupe.services.access import Actor
from loupe.services.compliance import audit_log

__all__ = ["audit_app"]

audit_app = typer.Typer(help="The audit log: verify and list.", no_args_is_help=True)


@audit_app.command("verify")
def verify(database_url: DatabaseUrl = None) -> None:
    """Recompute the hash chain; exit 11 naming the first event that does not verify."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        check = audit_log.verify(session)
    if not check.ok:
        raise AuditIntegrityError(
            f"audit log broken at seq {check.first_bad_seq}: {check.reason} "
            f"({check.checked} events verified before it, head says {check.head_seq})",
            details={"first_bad_seq": check.first_bad_seq},
        )
    console.print(f"audit log ok: {check.checked} events, chain verified")


@audit_app.command("list")
def list_events(
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. item.reveal")] = None,
    project: Annotated[int | None, typer.Option(help="Only this project id")] = None,
    after: Annotated[int, typer.Option(help="Events after this seq")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    database_url: DatabaseUrl = None,
) -> None:
    """Print events as JSON lines."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        rows = audit_log.list_events(
            session, Actor.system(), after=after, limit=limit, action=action, project_id=project
        )
        for e in rows:
            line = {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "project_id": e.project_id,
                "target": e.target,
                "details": e.details,
                "hash": e.hash,
            }
            console.print(json.dumps(line, ensure_ascii=False), soft_wrap=True, markup=False)
