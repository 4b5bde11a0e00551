"""Retention purges racing other writers (the purge itself: tests/web/test_retention.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tests.factories import add_items, count, make_project, pause_after, run_until_blocked

from loupe.db.database import Database
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import AuditEvent, ItemVault
from loupe.formats import ItemRecord, parse_item
from loupe.services.access import Actor
from loupe.services.compliance import retention
from loupe.services.compliance.gate import gate_for, vault_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.retention import RetentionRun, run_retention
from loupe.services.compliance.vault import item_aad
from loupe.services.projects import items
from loupe.services.projects.imports import import_records
from loupe.settings import Settings


def _zed(i: int) -> ItemRecord:
    return parse_item(
        {"id": f"z{i}", "text": f"zed's call {i}", "subject_id": "zed"},
        where="t",
        text_field="text",
    )


def test_a_purge_keeps_the_key_a_new_item_of_the_subject_is_being_sealed_under(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): a purge deleted a subject's last expired item, found no
    other item of the subject (an import's new one was not committed yet) and shredded
    the subject's key; the import committed its item sealed under that key, its original
    lost. Now the purge waits for the import's batch, sees its item and keeps the key."""
    project = make_project(db)
    with gate_for(settings) as gate:
        import_records(db, Actor.system(), project, [_zed(1)], gate=gate)
        with db.transaction() as session:
            set_privacy(session, Actor.system(), project, retention_days=30)
            session.execute(update(Item).values(created_at=utcnow() - timedelta(days=31)))
        pause = pause_after(monkeypatch, items, "_seal")
        with ThreadPoolExecutor(1) as pool:
            importing = pool.submit(
                import_records, db, Actor.system(), project, [_zed(2)], gate=gate
            )
            assert pause.reached.wait(60)

            def purge() -> RetentionRun:
                with db.transaction() as session:
                    return run_retention(session, Actor.system())

            purging = run_until_blocked(db, purge)
            pause.go.set()
            assert importing.result(60).created == 1
            assert purging.result(60).items_deleted == 1
    with db.transaction(readonly=True) as session:
        (item,) = session.scalars(select(Item)).all()
        box = session.get(ItemVault, item.id)
        assert item.external_id == "z2" and box is not None
        aad = item_aad(project, "z2")
        opened = vault_for(settings).open(session, box.key_id, box.ciphertext, aad=aad)
    assert opened == {"text": "zed's call 2"}


def test_two_servers_purging_at_once_delete_and_audit_each_item_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): two servers' retention loops read the same expired items;
    the second waited for the first's deletes, deleted nothing, and still audited a purge
    of every item (counted before it waited). Now it locks the items before counting
    them, and finds them gone."""
    project = make_project(db)
    add_items(db, project, 3)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, retention_days=30)
        session.execute(update(Item).values(created_at=utcnow() - timedelta(days=31)))
    pause = pause_after(monkeypatch, retention, "delete_items")

    def purge() -> int:
        with db.transaction() as session:
            return run_retention(session, Actor.system()).items_deleted

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(purge)
        assert pause.reached.wait(60)
        second = run_until_blocked(db, purge)
        pause.go.set()
        assert first.result(60) + second.result(60) == 3
    with db.transaction(readonly=True) as session:
        audited = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "retention.purge")
        ).all()
    assert [event["items"] for event in audited] == [3]
    assert count(db, "items") == 0
