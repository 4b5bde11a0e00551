from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.factories import make_project, make_user, snapshot
from tests.web.api.privacy_fixtures import client, keyed_settings

from loupe.cli import main
from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.compliance import audit_log

__all__ = ["client", "keyed_settings"]


def test_permission_changes_are_audited_and_listed(client: TestClient, db: Database) -> None:
    auditor = make_user(db, "aud", "auditor")
    annotator = make_user(db, "ann")
    make_project(db, members={annotator: "annotator"})
    response = client.get("/api/v1/audit", headers=auditor.headers)
    assert response.status_code == 200
    actions = [e["action"] for e in response.json()["items"]]
    assert actions == [
        "user.create",
        "token.issue",
        "user.create",
        "token.issue",
        "membership.add",
    ]
    first = response.json()["items"][0]
    assert first["seq"] == 1
    assert first["prev_hash"] == "0" * 64
    assert first["target"] == "username:aud"
    page = client.get("/api/v1/audit?limit=2", headers=auditor.headers).json()
    assert [e["seq"] for e in page["items"]] == [1, 2]
    assert page["next_after"] == 2
    rest = client.get("/api/v1/audit?after=2&action=membership.add", headers=auditor.headers)
    assert [e["seq"] for e in rest.json()["items"]] == [5]
    by_project = client.get("/api/v1/audit?project_id=1", headers=auditor.headers).json()
    assert [e["action"] for e in by_project["items"]] == ["membership.add"]
    check = client.get("/api/v1/audit/verify", headers=auditor.headers).json()
    assert check == {"ok": True, "checked": 5, "head_seq": 5, "first_bad_seq": None, "reason": None}


def test_audit_needs_rights(client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    before = snapshot(db)
    assert client.get("/api/v1/audit").status_code == 401
    for person in (manager, annotator):
        assert client.get("/api/v1/audit", headers=person.headers).status_code == 403
        assert client.get("/api/v1/audit/verify", headers=person.headers).status_code == 403
    admin = make_user(db, "root", "admin")
    for bad in ("limit=0", "after=-1", "actor_id=0", "since=yesterday"):
        assert client.get(f"/api/v1/audit?{bad}", headers=admin.headers).status_code == 422
    assert snapshot(db)["items"] == before["items"]


@pytest.mark.parametrize(
    ("tamper", "position", "reason"),
    [
        ("UPDATE audit_log SET target = 'x' WHERE seq = 3", 3, "row altered"),
        ("DELETE FROM audit_log WHERE seq = 2", 2, "missing event"),
        ("DELETE FROM audit_log WHERE seq = 6", 6, "log truncated"),
    ],
)
def test_verify_finds_tampering_by_position(
    db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: str,
    position: int,
    reason: str,
) -> None:
    with db.transaction() as session:
        for i in range(6):
            audit_log.record(session, Actor.system(), "test.event", details={"i": i})
    with db.transaction() as session:
        assert audit_log.verify(session).ok
    with db.engine.begin() as connection:
        connection.execute(text(tamper))
    with db.transaction() as session:
        check = audit_log.verify(session)
    assert not check.ok
    assert check.first_bad_seq == position
    assert check.reason is not None and check.reason.startswith(reason)
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "verify", "--database-url", database_url])
    assert exit_info.value.code == 11
    assert f"seq {position}" in capsys.readouterr().err
