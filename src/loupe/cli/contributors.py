"""``loupe contributors``: profiles, domain levels and languages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, open_database, resolve_user
from loupe.errors import InvalidInput
from loupe.services.access import Actor
from loupe.services.people import profiles
from loupe.services.people.profiles import ContributorProfile

__all__ = ["contributors_app", "parse_expiry"]

contributors_app = typer.Typer(
    help="Contributor profiles: domain levels, languages, clearances.", no_args_is_help=True
)

UserArg = Annotated[str, typer.Argument(help="Username or user id")]


def parse_expiry(value: str | None) -> datetime | None:
    """An ISO date or time; without a timezone it is UTC (a date: its midnight, UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"--expires: {value!r} is not a date; use e.g. 2030-01-01 or 2030-01-01T12:00:00Z",
            details={"field": "expires"},
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "never"


def _print(profile: ContributorProfile) -> None:
    console.print(f"{profile.username} (id {profile.user_id}, {profile.role})")
    console.print(f"languages: {', '.join(profile.languages) or '-'}")
    domains = Table("domain", "level", "source", "expires", "expired")
    for level in profile.domains:
        domains.add_row(
            level.domain,
            str(level.level),
            level.source,
            _when(level.expires_at),
            "yes" if level.expired else "",
        )
    console.print(domains)
    if profile.clearances:
        held = ", ".join(
            f"{c.sensitivity} in project {c.project_id} "
            f"(until {_when(c.expires_at)}{', expired' if c.expired else ''})"
            for c in profile.clearances
        )
        console.print(f"clearances: {held}")
    for record in profile.qualifications:
        best = "-" if record.best_score is None else f"{record.best_score:.0%}"
        console.print(
            f"qualification {record.test_id} {record.name!r} ({record.domain} level "
            f"{record.level}): {record.attempts} attempt(s), best {best}, "
            f"{'passed' if record.passed else 'not passed'}"
            f"{', one in progress' if record.in_progress else ''}"
        )


@contributors_app.command("show")
def show(user: UserArg, database_url: DatabaseUrl = None) -> None:
    """A contributor's domains and levels, languages, clearances and qualifications."""
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        profile = profiles.get_profile(session, Actor.system(), resolve_user(session, user))
    _print(profile)


@contributors_app.command("list")
def list_contributors(
    domain: Annotated[str | None, typer.Option(help="Only holders of a level in it")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List contributors with their levels and languages."""
    table = Table("id", "username", "role", "levels", "languages")
    with open_database(database_url) as db, db.transaction(readonly=True) as session:
        after = 0
        while rows := profiles.list_contributors(
            session, Actor.system(), domain=domain, after_id=after, limit=500
        ):
            for profile in rows:
                levels = ", ".join(
                    f"{d.domain}:{d.level}{' (expired)' if d.expired else ''}"
                    for d in profile.domains
                )
                table.add_row(
                    str(profile.user_id),
                    profile.username,
                    profile.role,
                    levels,
                    ", ".join(profile.languages),
                )
            after = rows[-1].user_id
    console.print(table)


@contributors_app.command("grant")
def grant(
    user: UserArg,
    domain: Annotated[str, typer.Argument(help="A domain tag, e.g. medical")],
    level: Annotated[int, typer.Option(help="1 qualified, 2 advanced, 3 expert")],
    expires: Annotated[
        str | None, typer.Option(help="ISO date or time (UTC unless given); default: never")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a contributor's level in a domain (replacing any earlier one). Audited."""
    expires_at = parse_expiry(expires)
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, user)
        profiles.grant_domain(session, Actor.system(), user_id, domain, level, expires_at)
    console.print(f"{user} holds level {level} in {domain} until {_when(expires_at)}")


@contributors_app.command("revoke")
def revoke(
    user: UserArg,
    domain: Annotated[str, typer.Argument(help="A domain tag, e.g. medical")],
    database_url: DatabaseUrl = None,
) -> None:
    """Take a contributor's level in a domain away at once. Audited."""
    with open_database(database_url) as db, db.transaction() as session:
        profiles.revoke_domain(session, Actor.system(), resolve_user(session, user), domain)
    console.print(f"{user} no longer holds a level in {domain}")


@contributors_app.command("languages")
def languages(
    user: UserArg,
    tags: Annotated[
        list[str] | None, typer.Argument(help="Language tags, e.g. de en pt-BR", show_default=False)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove all languages")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace the languages a contributor works in (stored as primary subtags: pt-BR -> pt)."""
    if bool(tags) == clear:
        raise InvalidInput("give language tags (e.g. de en) or --clear, not both or neither")
    with open_database(database_url) as db, db.transaction() as session:
        user_id = resolve_user(session, user)
        stored = profiles.set_languages(session, Actor.system(), user_id, tags or [])
    console.print(f"{user} works in: {', '.join(stored) or '-'}")
