"""Plain, typed factory functions for tests (no fixtures, no magic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from loupe.db.database import Database
from loupe.services import projects, users
from loupe.services.access import Actor


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.role)


def make_user(db: Database, username: str, role: str = "annotator") -> Person:
    with db.transaction() as session:
        user = users.create_user(session, Actor.system(), username=username, role=role)
        issued = users.issue_token(session, Actor.system(), user_id=user.id)
    return Person(user.id, username, role, issued.secret)


SCHEMA: dict[str, Any] = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
    }
}


def make_project(
    db: Database,
    *,
    name: str = "intents",
    overlap: int = 1,
    members: dict[Person, str] | None = None,
    config: dict[str, Any] | None = None,
) -> int:
    with db.transaction() as session:
        project = projects.create_project(
            session, Actor.system(), name=name, config=config or SCHEMA, overlap=overlap
        )
        for person, role in (members or {}).items():
            projects.add_member(session, Actor.system(), project.id, user_id=person.id, role=role)
    return project.id


def add_items(db: Database, project_id: int, n: int, *, start: int = 0) -> None:
    from loupe.formats import parse_item
    from loupe.services.items import insert_items

    records = [
        parse_item({"id": f"u{i}", "text": f"utterance {i}"}, where="test", text_field="text")
        for i in range(start, start + n)
    ]
    with db.transaction() as session:
        insert_items(session, Actor.system(), project_id, records)


def add_rows(db: Database, project_id: int, rows: list[dict[str, Any]]) -> None:
    """Items from import-format rows (``id``, ``text``, ``domain``, ``language``, ...)."""
    from loupe.formats import parse_item
    from loupe.services.items import insert_items

    records = [parse_item(row, where="test", text_field="text") for row in rows]
    with db.transaction() as session:
        insert_items(session, Actor.system(), project_id, records)


def grant_level(db: Database, user: Person, domain: str, level: int) -> None:
    """A domain level straight into the table (the contributors service has its own tests)."""
    from loupe.db.contributor_models import ContributorDomain

    with db.transaction() as session:
        session.add(ContributorDomain(user_id=user.id, domain=domain, level=level, source="test"))


def count(db: Database, table: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def snapshot(db: Database) -> dict[str, int]:
    """Row counts of every table, to assert that a failure changed nothing."""
    tables = [
        "users",
        "api_tokens",
        "projects",
        "project_configs",
        "memberships",
        "items",
        "assignments",
        "labels",
        "skips",
        "consensus",
        "rate_cards",
        "ledger_state",
        "ledger_nodes",
        "ledger_entries",
        "ledger_checkpoints",
        "payouts",
        "project_privacy",
        "subject_keys",
        "item_vaults",
        "clearances",
        "audit_log",
        "erasure_receipts",
        "contributor_domains",
        "contributor_languages",
        "qualification_tests",
        "qualification_attempts",
        "review_queue",
        "review_leases",
        "reviews",
        "reputation_events",
        "reputations",
        "escalations",
    ]
    return {table: count(db, table) for table in tables}


RATE_CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [
        {"amount_minor": 5},
        {"domain": "medical", "amount_minor": 12},
        {"tier": "reviewer", "amount_minor": 7},
    ],
    "quality_multipliers_bp": {"label.accepted": 10000},
    "bonuses_minor": {"expert": 20, "review": 3},
}


def make_rate_card(db: Database, project_id: int, card: dict[str, Any] | None = None) -> int:
    """A rate card version for ``project_id`` (default :data:`RATE_CARD`); returns its id."""
    from loupe.services.payments import create_rate_card

    with db.transaction() as session:
        return create_rate_card(session, Actor.system(), project_id, card or RATE_CARD).id
