"""Comments on items (loupe.services.labelling.comments): who may, the gate, cascade, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.factories import add_items, add_rows, hold_in, make_project, make_user, snapshot

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.db.privacy_models import AuditEvent
from loupe.db.project_models import ItemComment
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.services.access import Actor
from loupe.services.compliance.gate import vault_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.subjects import delete_items, erase_subject, export_subject
from loupe.services.compliance.vault import load_ref_key
from loupe.services.labelling import comments
from loupe.services.projects import project_lifecycle
from loupe.settings import Settings

SYSTEM = Actor.system()
PII = "ask jo.bloggs@example.com or +44 20 7946 0958, IBAN GB82 WEST 1234 5698 7654 32"


def _bodies(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return [str(b) for b in connection.execute(select(ItemComment.body)).scalars()]


def test_a_comment_passes_the_gate_before_it_is_stored(db: Database) -> None:
    reviewer = make_user(db, "rev", "reviewer")
    project = make_project(db, members={reviewer: "reviewer"})
    add_items(db, project, 1)
    with db.transaction() as session:
        comment = comments.add_comment(session, reviewer.actor, project, 1, body=PII)
    assert comment.redacted
    stored = _bodies(db)
    assert stored == [comment.body]
    for secret in ("jo.bloggs@example.com", "7946 0958", "GB82", "5698 7654"):
        assert secret not in stored[0]
    assert stored[0].startswith("ask ")
    # The audit log records that a comment was made, never what it said.
    with db.engine.connect() as connection:
        details = connection.execute(
            select(AuditEvent.details).where(AuditEvent.action == "comment.add")
        ).scalar_one()
    assert details == {"comment_id": comment.id, "redacted": True}


def test_withhold_policy_stores_nothing_of_a_personal_comment(db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 1)
    with db.transaction() as session:
        set_privacy(session, SYSTEM, project, policy="withhold")
    with db.transaction() as session:
        comments.add_comment(session, SYSTEM, project, 1, body=PII)
        comments.add_comment(session, SYSTEM, project, 1, body="the audio is cut")
    assert _bodies(db) == ["[WITHHELD]", "the audio is cut"]


def test_who_may_comment_and_read(db: Database) -> None:
    ann, other, auditor = make_user(db, "ann"), make_user(db, "bob"), make_user(db, "aud")
    manager = make_user(db, "mgr", "manager")
    project = make_project(
        db,
        members={ann: "annotator", other: "annotator", auditor: "auditor", manager: "manager"},
    )
    add_items(db, project, 2)
    before = snapshot(db)
    # An annotator sees only the item they hold a task for (or labelled).
    with db.transaction() as session, pytest.raises(PermissionDenied):
        comments.add_comment(session, ann.actor, project, 1, body="hm")
    with db.transaction() as session, pytest.raises(PermissionDenied):
        comments.list_comments(session, ann.actor, project, 1)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="auditors read"):
        comments.add_comment(session, auditor.actor, project, 1, body="hm")
    with db.transaction() as session, pytest.raises(NotFound):
        comments.add_comment(session, manager.actor, project, 99, body="hm")
    for body in ("", "   ", "x" * (comments.MAX_COMMENT + 1)):
        with db.transaction() as session, pytest.raises(InvalidInput):
            comments.add_comment(session, manager.actor, project, 1, body=body)
    assert snapshot(db) == before and _bodies(db) == []
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
        comments.add_comment(session, ann.actor, project, 1, body="is this a call?")
        comments.add_comment(session, manager.actor, project, 1, body="yes")
    with db.transaction(readonly=True) as session:
        seen_by_ann = comments.list_comments(session, ann.actor, project, 1)
        seen_by_auditor = comments.list_comments(session, auditor.actor, project, 1)
    # Blind for annotators: whose comment it is shows only as "mine".
    assert [(c.body, c.mine, c.author) for c in seen_by_ann] == [
        ("is this a call?", True, None),
        ("yes", False, None),
    ]
    assert [c.author for c in seen_by_auditor] == ["ann", "mgr"]


def test_an_archived_project_takes_no_comments(db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 1)
    with db.transaction() as session:
        project_lifecycle.archive_project(session, SYSTEM, project)
    with db.transaction() as session, pytest.raises(Conflict, match="archived"):
        comments.add_comment(session, SYSTEM, project, 1, body="late")
    with db.transaction(readonly=True) as session:
        assert comments.list_comments(session, SYSTEM, project, 1) == []


def test_comments_go_with_their_item(db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 2)
    with db.transaction() as session:
        comments.add_comment(session, SYSTEM, project, 1, body="one")
        comments.add_comment(session, SYSTEM, project, 2, body="two")
    with db.transaction() as session:
        delete_items(session, [1])
    assert _bodies(db) == ["two"]


def test_a_subjects_export_shows_and_erasure_erases_the_comments_on_their_items(
    db: Database, settings: Settings
) -> None:
    project = make_project(db)
    ref_key = load_ref_key(settings.resolved_key_dir())
    add_rows(db, project, [{"id": "z", "text": "call zed", "subject_id": "zed"}], ref_key=ref_key)
    add_items(db, project, 1)
    with db.transaction(readonly=True) as session:
        zed = session.scalar(select(Item.id).where(Item.subject_id.is_not(None)))
        other = session.scalar(select(Item.id).where(Item.subject_id.is_(None)))
    assert zed is not None and other is not None
    with db.transaction() as session:
        comments.add_comment(session, SYSTEM, project, zed, body="zed sounds upset")
        comments.add_comment(session, SYSTEM, project, other, body="fine")
    with db.transaction() as session:
        found = export_subject(session, SYSTEM, "zed", vault=vault_for(settings), ref_key=ref_key)
    assert [c["body"] for c in found.items[0]["comments"]] == ["zed sounds upset"]
    with db.transaction() as session:
        erase_subject(session, SYSTEM, "zed", ref_key=ref_key)
    assert _bodies(db) == ["fine"]
    with db.engine.connect() as connection:
        n = connection.execute(select(func.count()).select_from(ItemComment)).scalar_one()
    assert n == 1
