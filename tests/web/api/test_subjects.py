from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.factories import count, make_project, make_user, snapshot, subject_key_of
from tests.web.api.privacy_fixtures import CANARIES, CANARY_TEXT, client, keyed_settings

from loupe.cli import main
from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.privacy_models import SubjectKey
from loupe.errors import NotFound
from loupe.services.access import Actor
from loupe.services.compliance import retention
from loupe.services.compliance.gate import vault_for
from loupe.settings import Settings

__all__ = ["client", "keyed_settings"]


def _run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _seed(client: TestClient, db: Database) -> tuple[int, dict[str, str]]:
    admin = make_user(db, "root", "admin")
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    rows = [
        {"id": "a1", "text": CANARY_TEXT, "subject_id": "alice@example.org"},
        {"id": "a2", "text": "alice again: Zebulon-Quokka-77", "subject_id": "alice@example.org"},
        {"id": "b1", "text": "bob says play jazz", "subject_id": "bob"},
    ]
    response = client.post(
        f"/api/v1/projects/{project}/items", json={"items": rows}, headers=admin.headers
    )
    assert response.status_code == 200
    for _ in range(3):
        task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers)
        item_id = task.json()["task"]["item_id"]
        client.post(
            f"/api/v1/projects/{project}/items/{item_id}/labels",
            json={"answer": "call"},
            headers=annotator.headers,
        )
    return project, admin.headers


def _live_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` as it is on disk now (the main file, -wal, -shm,
    keys, models), read without checkpointing or closing anything."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_erasure_leaves_no_byte_of_the_subject(
    client: TestClient, db: Database, database_url: str, tmp_path: Path, keyed_settings: Settings
) -> None:
    project, headers = _seed(client, db)
    with db.engine.connect() as connection:
        wrapped = connection.execute(
            select(SubjectKey.wrapped).where(
                SubjectKey.key_id == subject_key_of(keyed_settings.key_dir, "alice@example.org")
            )
        ).scalar_one()
    erased = client.post(
        "/api/v1/subjects/erase", json={"subject_id": "alice@example.org"}, headers=headers
    )
    assert erased.status_code == 200, erased.text
    receipt = erased.json()["receipt"]
    assert receipt["items"] == [
        {"project_id": project, "item_id": 1},
        {"project_id": project, "item_id": 2},
    ]
    assert receipt["labels_deleted"] == 2
    assert receipt["keys_shredded"] == 1
    assert receipt["models_retired"] == receipt["models_retrain"] == []
    storage = erased.json()["storage"]
    assert storage["complete"] is True, storage
    assert erased.json()["model_files_deleted"] == []
    if database_url.startswith("sqlite"):
        # Read at once, with the server and its engine still open: no checkpoint, no close.
        files = _live_bytes(tmp_path)
        assert "loupe.db" in files
        for name, raw in files.items():
            for secret in (*CANARIES, "Zebulon-Quokka-77", "alice@example.org"):
                assert secret.encode() not in raw, (name, secret)
            assert wrapped not in raw, name
        assert b"bob says play jazz" in files["loupe.db"] + files.get("loupe.db-wal", b"")
    canonical = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib

    assert erased.json()["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    export = client.get(f"/api/v1/projects/{project}/export", headers=headers).text
    assert [json.loads(line)["id"] for line in export.splitlines()] == ["b1"]
    events = client.get("/api/v1/audit?action=subject.erase", headers=headers).json()["items"]
    assert len(events) == 1
    assert events[0]["details"]["receipt_sha256"] == erased.json()["sha256"]
    assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
    again = client.post(
        "/api/v1/subjects/erase", json={"subject_id": "alice@example.org"}, headers=headers
    )
    assert again.status_code == 404


def test_subject_export_and_endpoint_rights(client: TestClient, db: Database) -> None:
    _, headers = _seed(client, db)
    manager = make_user(db, "mgr", "manager")
    before = snapshot(db)
    body = {"subject_id": "alice@example.org"}
    for url in ("/api/v1/subjects/export", "/api/v1/subjects/erase", "/api/v1/retention/run"):
        assert client.post(url, json=body).status_code == 401
        assert client.post(url, json=body, headers=manager.headers).status_code == 403
    for bad in ({}, {"subject_id": ""}, {"subject_id": "x" * 256}, {"subject_id": "a", "b": 1}):
        assert client.post("/api/v1/subjects/erase", json=bad, headers=headers).status_code == 422
    unknown = client.post("/api/v1/subjects/erase", json={"subject_id": "carol"}, headers=headers)
    assert unknown.status_code == 404
    assert snapshot(db) == before
    found = client.post("/api/v1/subjects/export", json=body, headers=headers)
    assert found.status_code == 200
    out = found.json()
    assert out["key_held"] is True
    assert out["items"][0]["original"] == {"text": CANARY_TEXT}
    assert out["items"][0]["labels"][0]["answer"] == "call"
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=headers).json()["items"]]
    assert "subject.export" in actions


def test_retention_purges_old_items(client: TestClient, db: Database) -> None:
    project, headers = _seed(client, db)
    url = f"/api/v1/projects/{project}/privacy"
    assert client.put(url, json={"retention_days": 30}, headers=headers).status_code == 200
    with db.transaction() as session:
        assert retention.run_retention(session, Actor.system()).items_deleted == 0
    with db.transaction() as session:
        run = retention.run_retention(session, Actor.system(), now=utcnow() + timedelta(days=31))
    assert run.items_deleted == 3
    assert count(db, "items") == 0
    assert count(db, "subject_keys") == 0
    assert count(db, "item_vaults") == 0
    events = client.get("/api/v1/audit?action=retention.purge", headers=headers).json()["items"]
    assert events[0]["details"]["items"] == 3


def test_cli_import_gate_erase_and_export(
    keyed_settings: Settings,
    database_url: str,
    tmp_path: Path,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOUPE_KEY_DIR", str(keyed_settings.key_dir))
    make_project(db)
    source = tmp_path / "items.jsonl"
    source.write_text(
        json.dumps({"id": "1", "text": CANARY_TEXT, "subject_id": "s9.person@example.org"})
        + "\n"
        + json.dumps({"id": "2", "text": "plain words"})
        + "\n"
    )
    assert _run("import", "intents", str(source), "--database-url", database_url) == 0
    with db.engine.connect() as connection:
        data = connection.execute(text("SELECT data FROM items ORDER BY id")).scalars().all()
    assert CANARIES[0] not in json.dumps(data)
    subject = "s9.person@example.org"
    assert _run("subjects", "export", subject, "--database-url", database_url) == 0
    assert CANARY_TEXT in capsys.readouterr().out
    # The test's own engine (another "process") keeps its connections open meanwhile.
    assert _run("subjects", "erase", subject, "--database-url", database_url) == 0
    if database_url.startswith("sqlite"):
        files = _live_bytes(tmp_path)
        del files[source.name]  # the import's own input
        for name, raw in files.items():
            for secret in (*CANARIES, subject):
                assert secret.encode() not in raw, (name, secret)
    out = json.loads(capsys.readouterr().out)
    assert out["receipt"]["keys_shredded"] == 1
    assert out["storage"]["complete"] is True
    assert out["receipt"]["subject_ref"].startswith("hmac:")
    assert count(db, "items") == 1
    assert _run("audit", "verify", "--database-url", database_url) == 0
    assert "audit log ok" in capsys.readouterr().out
    assert _run("retention", "set", "intents", "7", "--database-url", database_url) == 0
    assert _run("retention", "run", "--database-url", database_url) == 0
    assert "0 items purged" in capsys.readouterr().out


def test_a_backup_taken_before_an_erasure_still_opens_with_the_master_key(
    client: TestClient, db: Database, keyed_settings: Settings, tmp_path: Path
) -> None:
    """What docs/compliance.md states: the subject keys live in the database, so a copy of
    it taken before the erasure, together with the master key, still opens the subject's
    originals; the live database no longer can."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("copies the SQLite file")
    _, headers = _seed(client, db)
    with db.engine.connect() as connection:
        key_id, ciphertext, aad = connection.execute(
            text(
                "SELECT v.key_id, v.ciphertext, i.project_id || '/' || i.external_id "
                "FROM item_vaults v JOIN items i ON i.id = v.item_id WHERE i.external_id = 'a1'"
            )
        ).one()
    backup = tmp_path / "backup.db"
    with (
        sqlite3.connect(Path(db.url.removeprefix("sqlite:///"))) as live,
        sqlite3.connect(backup) as copy,
    ):
        live.backup(copy)
    erased = client.post(
        "/api/v1/subjects/erase", json={"subject_id": "alice@example.org"}, headers=headers
    )
    assert erased.status_code == 200
    vault = vault_for(keyed_settings)
    with db.transaction(readonly=True) as session, pytest.raises(NotFound):
        vault.open(session, key_id, bytes(ciphertext), aad=aad)
    old = Database(f"sqlite:///{backup}")
    with old.transaction(readonly=True) as session:
        assert vault.open(session, key_id, bytes(ciphertext), aad=aad) == {"text": CANARY_TEXT}
    old.dispose()
