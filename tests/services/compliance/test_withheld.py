from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import make_project, make_user

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.db.privacy_models import AuditEvent
from loupe.errors import PermissionDenied
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.vault import Vault
from loupe.services.compliance.withheld import retry_withheld, withheld_counts
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.projects.items import insert_items

PHONE = "+44 20 7946 0958"


def _import(db: Database, project: int, gate: PrivacyGate, rows: list[dict[str, str]]) -> int:
    records = [parse_item(row, where="test", text_field="text") for row in rows]
    with db.transaction() as session:
        return insert_items(session, Actor.system(), project, records, gate=gate).withheld


def test_withheld_items_are_counted_and_released_after_a_policy_change(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    gate = PrivacyGate(vault=Vault(bytes(range(32))))
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy="withhold")
    rows = [{"id": "a", "text": f"call {PHONE}"}, {"id": "b", "text": "play jazz"}]
    assert _import(db, project, gate, rows) == 1
    with db.transaction() as session:
        counts = withheld_counts(session, Actor.system(), project)
        assert (counts.total, counts.by_reason) == (1, {"policy": 1})
        # Retried as it is, the same text gets the same verdict.
        assert retry_withheld(session, Actor.system(), gate, project_id=project).released == 0
        set_privacy(session, Actor.system(), project, policy="placeholder")
        run = retry_withheld(session, Actor.system(), gate)
    assert (run.retried, run.released, run.by_project) == (1, 1, {project: 1})
    with db.transaction() as session:
        item = session.scalar(select(Item).where(Item.external_id == "a"))
        assert item is not None and not item.withheld
        assert item.data == {"text": "call [PHONE]"} and item.sensitivity == "personal"
        assert withheld_counts(session, Actor.system(), project).total == 0
        assert "item.gate_retry" in session.scalars(select(AuditEvent.action)).all()
    served = []
    while True:
        with db.transaction() as session:
            task = next_task(session, ann.actor, project, lease_seconds=60)
            if task is None:
                break
            served.append(task.external_id)
            submit_label(session, ann.actor, project, task.item_id, "call")
    assert sorted(served) == ["a", "b"]  # released: handed out like any other item


def test_only_managers_retry(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    gate = PrivacyGate(vault=Vault(bytes(range(32))))
    with db.transaction() as session, pytest.raises(PermissionDenied):
        retry_withheld(session, ann.actor, gate, project_id=project)


def test_the_verdict_does_not_depend_on_the_clock(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (#12): under CPU load ordinary items were withheld, and a 5,000-word
    text was withheld with the import reporting only "10 new items"."""
    project = make_project(db)
    gate = PrivacyGate()
    start = time.perf_counter()
    ticks = iter(range(10**9))
    # Every clock read says another hour has passed: a time budget would run out.
    monkeypatch.setattr(time, "perf_counter", lambda: start + 3600.0 * next(ticks))
    long_text = " ".join(f"word{n % 97}" for n in range(5_000)) + f" ring {PHONE}"
    rows = [{"id": f"u{n}", "text": f"play song {n}"} for n in range(10)]
    assert _import(db, project, gate, [*rows, {"id": "long", "text": long_text}]) == 0
    with db.transaction() as session:
        item = session.scalar(select(Item).where(Item.external_id == "long"))
        assert item is not None and not item.withheld
        assert str(item.data["text"]).endswith("ring [PHONE]")


def test_two_servers_retrying_at_once_release_each_item_once(db: Database) -> None:
    """Regression (PostgreSQL): two servers' background retries read the same withheld
    items; both gated them and released them, and each release was audited twice. Now a
    retry locks the items it takes, and another skips them."""
    project = make_project(db)
    vault = Vault(bytes(range(32)))
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy="withhold")
    assert _import(db, project, PrivacyGate(vault=vault), [{"id": "a", "text": PHONE}]) == 1
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy="placeholder")
    checking, go = threading.Event(), threading.Event()

    class Held(PrivacyGate):
        """Stops in its first check, inside the retry's transaction."""

        def check(self, *args: Any, **kwargs: Any) -> Any:
            checking.set()
            assert go.wait(60)
            return super().check(*args, **kwargs)

    def retry(gate: PrivacyGate) -> int:
        with db.transaction() as session:
            return retry_withheld(session, Actor.system(), gate, project_id=project).released

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(retry, Held(vault=vault))
        assert checking.wait(60)
        if db.engine.dialect.name == "sqlite":
            go.set()  # one writer at a time: the second retry waits for the first
        second = retry(PrivacyGate(vault=vault))
        go.set()
        released = first.result(60) + second
    with db.transaction(readonly=True) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.gate_retry")
        ).all()
    assert (released, len(events)) == (1, 1)
