"""Archive, unarchive, duplicate and delete a project (loupe.services.projects.project_lifecycle)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.factories import (
    add_items,
    count,
    hold_in,
    make_project,
    make_rate_card,
    make_user,
    pause_after,
    run_until_blocked,
    snapshot,
    subject_key_of,
)

from loupe.db.database import Database
from loupe.db.ledger_models import LedgerEntry, RateCard
from loupe.db.models import Item, Membership, Project
from loupe.db.privacy_models import AuditEvent, ItemVault, SubjectKey
from loupe.db.project_models import DeletedProject, ItemComment
from loupe.errors import Conflict, InvalidInput, PermissionDenied
from loupe.formats import parse_item
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling import comments
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.payments.earnings import balances
from loupe.services.payments.ledger import audit_ledger
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.projects import definition, items, project_lifecycle
from loupe.services.projects.imports import import_records
from loupe.settings import Settings

SYSTEM = Actor.system()


def _archive(db: Database, project: int) -> None:
    with db.transaction() as session:
        project_lifecycle.archive_project(session, SYSTEM, project)


def test_an_archived_project_serves_no_work_and_takes_no_imports_or_labels(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 2)
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
    _archive(db, project)
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        next_task(session, ann.actor, project, lease_seconds=60)
    assert "archived" in refused.value.message and "serves no tasks" in refused.value.message
    assert refused.value.details["reason"] == "archived"
    with db.transaction() as session, pytest.raises(Conflict):
        submit_label(session, ann.actor, project, 1, "call")
    with pytest.raises(Conflict):
        add_items(db, project, 1, start=5)
    assert snapshot(db) == before
    # Still readable: the project, its members, its items' count.
    with db.transaction(readonly=True) as session:
        assert definition.get_project(session, ann.actor, project).archived_at is not None
    with db.transaction() as session:
        project_lifecycle.unarchive_project(session, SYSTEM, project)
    with db.transaction() as session:
        task = next_task(session, ann.actor, project, lease_seconds=60)
    assert task is not None


def test_an_archived_project_takes_no_expert_answers_or_decisions(db: Database) -> None:
    from loupe.services.labelling.escalations import flag_item, resolve_escalation

    ann, manager = make_user(db, "ann"), make_user(db, "mgr", "manager")
    project = make_project(db, members={ann: "annotator", manager: "manager"})
    add_items(db, project, 1)
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
        flag_item(session, ann.actor, project, 1, reason="is this music?")
    _archive(db, project)
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict, match="archived"):
        resolve_escalation(session, manager.actor, project, 1, answer="music")
    assert snapshot(db) == before


def test_refusals_come_after_the_permission_check(db: Database) -> None:
    """An outsider learns nothing about an archived project: 403, not 409."""
    outsider = make_user(db, "eve")
    project = make_project(db)
    _archive(db, project)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        next_task(session, outsider.actor, project, lease_seconds=60)


def test_archive_twice_and_unarchive_a_live_project_are_conflicts(db: Database) -> None:
    project = make_project(db)
    _archive(db, project)
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict, match="already archived"):
        project_lifecycle.archive_project(session, SYSTEM, project)
    assert snapshot(db) == before
    with db.transaction() as session:
        project_lifecycle.unarchive_project(session, SYSTEM, project)
    with db.transaction() as session, pytest.raises(Conflict, match="not archived"):
        project_lifecycle.unarchive_project(session, SYSTEM, project)
    with db.transaction(readonly=True) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == f"project:{project}")
        ).all()
    assert [a for a in actions if a.startswith("project.")][-2:] == [
        "project.archive",
        "project.unarchive",
    ]


def test_lists_hide_archived_projects_unless_asked(db: Database) -> None:
    live, old = make_project(db, name="live"), make_project(db, name="old")
    _archive(db, old)
    with db.transaction(readonly=True) as session:
        shown = definition.list_projects(session, SYSTEM, after_id=0, limit=10)
        archived = definition.list_projects(session, SYSTEM, after_id=0, limit=10, archived=True)
        assert [p.id for p in shown] == [live]
        assert [p.id for p in archived] == [old]


def test_annotators_may_not_archive(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    with db.transaction() as session, pytest.raises(PermissionDenied):
        project_lifecycle.archive_project(session, ann.actor, project)


def test_duplicate_copies_the_configuration_not_the_data(db: Database) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, overlap=2, members={manager: "manager", ann: "annotator"})
    add_items(db, project, 3)
    make_rate_card(db, project)
    with db.transaction() as session:
        definition.update_project(session, SYSTEM, project, guidelines="Be kind.")
        set_privacy(session, SYSTEM, project, policy="withhold", retention_days=30)
    with db.transaction() as session:
        copy = project_lifecycle.duplicate_project(
            session, manager.actor, project, name="intents-2", members=True
        )
        copy_id = copy.id
    with db.transaction(readonly=True) as session:
        source, new = session.get(Project, project), session.get(Project, copy_id)
        assert source is not None and new is not None
        assert (new.config, new.overlap, new.guidelines) == (
            source.config,
            source.overlap,
            "Be kind.",
        )
        assert new.config_version == 1
        assert session.scalar(select(func.count()).where(Item.project_id == copy_id)) == 0
        roles = dict(
            session.execute(
                select(Membership.user_id, Membership.role).where(Membership.project_id == copy_id)
            ).all()
        )
        assert roles == {manager.id: "manager", ann.id: "annotator"}
        card = session.scalar(select(RateCard).where(RateCard.project_id == copy_id))
        assert card is not None and card.version == 1
        from loupe.services.compliance.privacy_settings import privacy_of

        assert privacy_of(session, copy_id).policy == "withhold"
        assert privacy_of(session, copy_id).retention_days == 30
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.duplicate"))
        assert event is not None and event.details["from_project"] == project


def test_duplicate_needs_a_new_name(db: Database) -> None:
    project = make_project(db)
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict):
        project_lifecycle.duplicate_project(session, SYSTEM, project, name="intents")
    with db.transaction() as session, pytest.raises(InvalidInput):
        project_lifecycle.duplicate_project(session, SYSTEM, project, name="  ")
    assert snapshot(db) == before


@pytest.fixture
def keys(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "ledger-keys", origin="loupe.test/ledger"))


def _paid_project(db: Database, ledger: LedgerConfig, name: str) -> tuple[int, list[int]]:
    ann = make_user(db, f"ann-{name}")
    project = make_project(db, name=name, members={ann: "annotator"})
    add_items(db, project, 3)
    make_rate_card(db, project)
    for item in _item_ids(db, project):
        with db.transaction() as session:
            hold_in(session, ann.id, project, item)
            submit_label(session, ann.actor, project, item, "call", ledger=ledger)
    return project, [ann.id]


def _item_ids(db: Database, project: int) -> list[int]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(Item.id).where(Item.project_id == project)))


def test_delete_keeps_the_payment_log_which_still_verifies(
    db: Database, keys: LedgerConfig, tmp_path: Path
) -> None:
    kept, kept_people = _paid_project(db, keys, "kept")
    gone, gone_people = _paid_project(db, keys, "gone")
    with db.transaction() as session:
        comments.add_comment(session, SYSTEM, gone, _item_ids(db, gone)[0], body="unclear one")
    secret = keys.keys.secret
    with db.transaction(readonly=True) as session:
        owed = {u: balances(session, u, secret=secret) for u in kept_people + gone_people}
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    with db.transaction() as session, pytest.raises(InvalidInput, match="type the project's name"):
        project_lifecycle.delete_project(session, SYSTEM, gone, confirm="gone?")
    with db.transaction() as session:
        deletion = project_lifecycle.delete_project(session, SYSTEM, gone, confirm="gone")
    cleanup = project_lifecycle.finish_deletion(db, deletion, store=ModelStore(tmp_path / "m"))
    assert cleanup.storage.complete or db.engine.dialect.name != "sqlite"
    assert (deletion.items_deleted, deletion.labels_deleted, deletion.comments_deleted) == (3, 3, 1)
    assert deletion.ledger_entries_kept == 3
    with db.transaction(readonly=True) as session:
        assert session.get(Project, gone) is None
        assert session.scalar(select(func.count()).select_from(ItemComment)) == 0
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
        report = audit_ledger(session, SYSTEM, verifier_keys=keys.keys.verifier_keys, secret=secret)
        assert report.problems == []
        assert {u: balances(session, u, secret=secret) for u in owed} == owed
        assert session.get(DeletedProject, gone) is not None
        assert session.get(Project, kept) is not None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.delete"))
        assert event is not None and event.details["ledger_entries_kept"] == 3


def test_a_new_project_never_takes_a_deleted_projects_id(db: Database, keys: LedgerConfig) -> None:
    """Regression: SQLite hands out the largest id plus one, which was the deleted project's;
    the log's entries (``p<id>.v<n>``) would then name the new project and fail to verify."""
    make_project(db, name="first")
    gone, _ = _paid_project(db, keys, "gone")
    with db.transaction() as session:
        project_lifecycle.delete_project(session, SYSTEM, gone, confirm="gone")
    fresh = make_project(db, name="fresh")
    assert fresh > gone
    with db.transaction(readonly=True) as session:
        report = audit_ledger(
            session, SYSTEM, verifier_keys=keys.keys.verifier_keys, secret=keys.keys.secret
        )
    assert report.problems == []


def test_delete_shreds_only_keys_no_other_project_uses(db: Database, settings: Settings) -> None:
    here, there = make_project(db, name="here"), make_project(db, name="there")
    gate = gate_for(settings)
    for project, external in ((here, "a"), (there, "b"), (here, "c")):
        subject = "zed" if external != "c" else None
        row = {"id": external, "text": "call mum on +44 20 7946 0958", "subject_id": subject}
        record = parse_item(
            {k: v for k, v in row.items() if v is not None}, where="t", text_field="text"
        )
        with db.transaction() as session:
            items.insert_items(session, SYSTEM, project, [record], gate=gate)
    with db.transaction(readonly=True) as session:
        keys_before = set(session.scalars(select(SubjectKey.key_id)))
    zed = subject_key_of(settings.resolved_key_dir(), "zed")
    assert zed in keys_before
    with db.transaction() as session:
        deletion = project_lifecycle.delete_project(session, SYSTEM, here, confirm="here")
    assert deletion.keys_shredded == 1  # item c's own key; zed's still seals item b
    with db.transaction(readonly=True) as session:
        left = set(session.scalars(select(SubjectKey.key_id)))
        vaults = session.scalar(select(func.count()).select_from(ItemVault))
    assert zed in left and len(left) == len(keys_before) - 1
    assert vaults == 1


def test_only_managers_and_admins_delete(db: Database) -> None:
    ann, manager = make_user(db, "ann"), make_user(db, "mgr", "manager")
    project = make_project(db, members={ann: "annotator", manager: "manager"})
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="delete this project"):
        project_lifecycle.delete_project(session, ann.actor, project, confirm="intents")
    assert snapshot(db) == before
    with db.transaction() as session:
        project_lifecycle.delete_project(session, manager.actor, project, confirm="intents")
    assert snapshot(db)["projects"] == 0


def test_a_deletion_waits_for_an_import_batch_and_shreds_its_keys(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): a deletion counted the project's items and shredded their
    keys without waiting for an import's batch in flight; the batch's item went with the
    project (a cascade) uncounted, and its key stayed behind. Now the deletion waits for
    the batch (the project's row) and counts and shreds all."""
    project = make_project(db, name="doomed")
    records = [parse_item({"id": f"a{i}", "text": f"call {i}"}, where="t", text_field="text")
               for i in range(2)]  # fmt: skip
    with gate_for(settings) as gate:
        import_records(db, Actor.system(), project, records[:1], gate=gate)
        pause = pause_after(monkeypatch, items, "_seal")

        def delete() -> project_lifecycle.ProjectDeletion:
            with db.transaction() as session:
                return project_lifecycle.delete_project(
                    session, Actor.system(), project, confirm="doomed"
                )

        with ThreadPoolExecutor(1) as pool:
            importing = pool.submit(import_records, db, Actor.system(), project, records, gate=gate)
            assert pause.reached.wait(60)
            deleting = run_until_blocked(db, delete)
            pause.go.set()
            assert importing.result(60).created == 1
            deleted = deleting.result(60)
    assert (deleted.items_deleted, deleted.keys_shredded) == (2, 2)
    assert count(db, "items") == count(db, "subject_keys") == 0
