from __future__ import annotations

import os
import queue
import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from tests.factories import make_project, subject_key_of

from loupe.db.database import Database
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import AuditEvent, ItemVault, SubjectKey
from loupe.errors import Conflict, InvalidInput, LoupeError
from loupe.formats import parse_item
from loupe.learning.persistence import ModelStore
from loupe.privacy import SubjectKeyring
from loupe.services.access import Actor
from loupe.services.compliance import master_keys
from loupe.services.compliance.gate import gate_for, vault_for
from loupe.services.compliance.master_keys import (
    destroy_retired_master_keys,
    retired_master_keys,
    rotate_master_key,
)
from loupe.services.compliance.subjects import erase_subject, export_subject, finish_erasure
from loupe.services.compliance.vault import (
    CHECK_KEY_ID,
    MASTER_KEY_FILE,
    NEXT_KEY_FILE,
    Sealed,
    Vault,
    item_aad,
    load_master_key,
    load_ref_key,
)
from loupe.services.projects import items
from loupe.settings import Settings

ALICE = "alice@example.org"
ALICE_TEXT = "mail canary.fox@example.org or call +44 20 7946 0958"


def _import(db: Database, settings: Settings, project: int, rows: list[dict[str, Any]]) -> None:
    records = [parse_item(row, where="t", text_field="text") for row in rows]
    with gate_for(settings) as gate, db.transaction() as session:
        items.insert_items(session, Actor.system(), project, records, gate=gate)


def _seed(db: Database, settings: Settings) -> int:
    project = make_project(db)
    _import(
        db,
        settings,
        project,
        [
            {"id": "a1", "text": ALICE_TEXT, "subject_id": ALICE},
            {"id": "a2", "text": "alice again: ring 020 7946 0999", "subject_id": ALICE},
            {"id": "n1", "text": "write to noone@example.com", "subject_id": None},
        ],
    )
    return project


def _sealed(db: Database, external_id: str) -> tuple[str, bytes, str]:
    with db.transaction(readonly=True) as session:
        item = session.scalars(select(Item).where(Item.external_id == external_id)).one()
        box = session.get(ItemVault, item.id)
        assert box is not None
        return box.key_id, bytes(box.ciphertext), item_aad(item.project_id, item.external_id)


def _wrapped(db: Database) -> dict[str, bytes]:
    with db.transaction(readonly=True) as session:
        rows = session.execute(select(SubjectKey.key_id, SubjectKey.wrapped)).all()
    return {str(row[0]): bytes(row[1]) for row in rows}


def _originals(db: Database, vault: Vault, settings: Settings) -> list[Any]:
    ref_key = load_ref_key(settings.resolved_key_dir())
    with db.transaction() as session:
        found = export_subject(session, Actor.system(), ALICE, vault=vault, ref_key=ref_key)
    return [item["original"] for item in found.items]


def test_rotation_rewraps_every_key_and_old_vaults_follow_it(
    db: Database, settings: Settings
) -> None:
    project = _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    old_key = load_master_key(key_dir)
    before = _wrapped(db)
    stale = vault_for(settings)  # made before the rotation, as a running request's
    assert _originals(db, stale, settings)[0] == {"text": ALICE_TEXT}

    done = rotate_master_key(db, Actor.system(), key_dir=key_dir)

    new_key = load_master_key(key_dir)
    assert new_key != old_key
    assert done.rewrapped == len(before) and not done.finished_earlier
    assert done.retired.parent == key_dir / "retired"
    assert bytes.fromhex(done.retired.read_text().strip()) == old_key
    assert stat.S_IMODE(done.retired.stat().st_mode) == 0o600
    assert stat.S_IMODE(done.retired.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((key_dir / MASTER_KEY_FILE).stat().st_mode) == 0o600
    assert not (key_dir / NEXT_KEY_FILE).exists()
    after = _wrapped(db)
    assert set(after) == {*before, CHECK_KEY_ID}
    for key_id in before:
        assert after[key_id] != before[key_id]
        assert SubjectKeyring(master_key=new_key, storage=after).opens(key_id)
        assert not SubjectKeyring(master_key=old_key, storage=after).opens(key_id)
    # Sealed items still open: the export, a fresh vault, and the vault made before.
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}
    assert _originals(db, stale, settings)[0] == {"text": ALICE_TEXT}
    assert stale.master_key == new_key
    # New imports seal under the new key, through a new gate and through the old vault.
    _import(
        db,
        settings,
        project,
        [{"id": "c1", "text": "carol at +44 20 7946 0111", "subject_id": "carol"}],
    )
    vault = Vault(old_key, key_dir=key_dir)
    with db.transaction() as session:
        vault.seal_many(session, [("subject:dave", "x/1", {"text": "dave"})])
    assert vault.master_key == new_key
    now = _wrapped(db)
    for key_id in (subject_key_of(key_dir, "carol"), "subject:dave"):
        assert SubjectKeyring(master_key=new_key, storage=now).opens(key_id)
    key_id, ciphertext, aad = _sealed(db, "c1")
    with db.transaction(readonly=True) as session:
        assert vault_for(settings).open(session, key_id, ciphertext, aad=aad)["text"]
        # A vault made from bare key bytes cannot follow: a clear error, not wrong data.
        with pytest.raises(Conflict, match="master key"):
            Vault(old_key).open(session, key_id, ciphertext, aad=aad)
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "keys.master_rotated")
        ).all()
    assert details == [{"rewrapped": len(before)}]


def test_two_rotations_in_a_row_both_work(db: Database, settings: Settings) -> None:
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    keys = [load_master_key(key_dir)]
    first = rotate_master_key(db, Actor.system(), key_dir=key_dir)
    keys.append(load_master_key(key_dir))
    second = rotate_master_key(db, Actor.system(), key_dir=key_dir)
    keys.append(load_master_key(key_dir))
    assert len(set(keys)) == 3
    assert first.retired != second.retired
    assert [k.path for k in retired_master_keys(key_dir)] == [first.retired, second.retired]
    assert bytes.fromhex(second.retired.read_text().strip()) == keys[1]
    assert first.rewrapped == second.rewrapped == 2  # alice's key and n1's own
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}


def test_a_backup_taken_before_an_erasure_opens_only_until_its_retired_key_is_destroyed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """The finding: a database copy taken before an erasure, plus the master key, opened
    the erased subject's originals. After a rotation and the destruction of the retired
    key, nothing left in the key directory opens that copy."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("copies the SQLite file")
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    key_id, ciphertext, aad = _sealed(db, "a1")
    backup = tmp_path / "backup.db"
    with (
        sqlite3.connect(db.url.removeprefix("sqlite:///")) as live,
        sqlite3.connect(backup) as copy,
    ):
        live.backup(copy)
    with db.transaction() as session:
        erase_subject(session, Actor.system(), ALICE, ref_key=load_ref_key(key_dir))
    finish_erasure(db, store=ModelStore(tmp_path / "models"))
    done = rotate_master_key(db, Actor.system(), key_dir=key_dir)
    old = Database(f"sqlite:///{backup}")
    try:
        retired = bytes.fromhex(done.retired.read_text().strip())
        with old.transaction(readonly=True) as session:
            # Until destroyed, the retired key opens the old copy (this test can see it).
            assert Vault(retired).open(session, key_id, ciphertext, aad=aad) == {"text": ALICE_TEXT}
        # A second name for the file: destruction overwrites the bytes, not just a name.
        spare = tmp_path / "spare-link"
        os.link(done.retired, spare)
        assert destroy_retired_master_keys(key_dir, timedelta(days=1)) == []
        destroyed = destroy_retired_master_keys(key_dir, timedelta(0))
        assert [key.path for key in destroyed] == [done.retired]
        assert not done.retired.exists()
        assert spare.read_bytes() == bytes(len(spare.read_bytes())) != b""
        candidates = _every_key_in(key_dir)
        assert candidates  # the current master key, the ref key, the ledger's keys...
        with old.transaction(readonly=True) as session:
            for candidate in candidates:
                with pytest.raises(LoupeError):
                    Vault(candidate, key_dir=key_dir).open(session, key_id, ciphertext, aad=aad)
            with pytest.raises(LoupeError):
                vault_for(settings).open(session, key_id, ciphertext, aad=aad)
    finally:
        old.dispose()


def _every_key_in(key_dir: Path) -> list[bytes]:
    """Every 32-byte value any file in ``key_dir`` holds, raw or as hex."""
    found: list[bytes] = []
    for path in key_dir.rglob("*"):
        if not path.is_file():
            continue
        body = path.read_bytes()
        if len(body) == 32:
            found.append(body)
        for word in body.split():
            try:
                value = bytes.fromhex(word.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                continue
            if len(value) == 32:
                found.append(value)
    return found


def test_destroy_retired_keeps_keys_younger_than_the_retention(
    db: Database, settings: Settings
) -> None:
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    now = utcnow()
    first = rotate_master_key(db, Actor.system(), key_dir=key_dir, now=now - timedelta(days=10))
    second = rotate_master_key(db, Actor.system(), key_dir=key_dir, now=now - timedelta(days=2))
    with pytest.raises(InvalidInput):
        destroy_retired_master_keys(key_dir, timedelta(days=-1), now)
    assert first.retired.exists()
    gone = destroy_retired_master_keys(key_dir, timedelta(days=7), now)
    assert [key.path for key in gone] == [first.retired]
    assert [key.path for key in retired_master_keys(key_dir)] == [second.retired]
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}


def test_a_crash_after_the_commit_is_finished_by_the_next_rotation(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    old_key = load_master_key(key_dir)

    def crash(*_args: object) -> Path:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(master_keys, "_retire", crash)
        with pytest.raises(RuntimeError, match="power cut"):
            rotate_master_key(db, Actor.system(), key_dir=key_dir)
    # Committed, not renamed: the database is wrapped under .next, which vaults use.
    pending = load_master_key(key_dir, name=NEXT_KEY_FILE)
    assert load_master_key(key_dir) == old_key
    assert SubjectKeyring(master_key=pending, storage=_wrapped(db)).opens(
        subject_key_of(key_dir, ALICE)
    )
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}

    done = rotate_master_key(db, Actor.system(), key_dir=key_dir)

    assert done.finished_earlier
    assert not (key_dir / NEXT_KEY_FILE).exists()
    retired = [bytes.fromhex(k.path.read_text().strip()) for k in retired_master_keys(key_dir)]
    assert retired == [old_key, pending]
    assert load_master_key(key_dir) not in (old_key, pending)
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}


def test_a_failed_transaction_removes_next_and_changes_nothing(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    old_key = load_master_key(key_dir)
    before = _wrapped(db)
    real = master_keys._rewrap_all

    def fail_after_rewrapping(session: Any, *args: Any, **kwargs: Any) -> int:
        real(session, *args, **kwargs)
        assert (key_dir / NEXT_KEY_FILE).exists()  # written before the transaction
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch:
        patch.setattr(master_keys, "_rewrap_all", fail_after_rewrapping)
        with pytest.raises(RuntimeError, match="went away"):
            rotate_master_key(db, Actor.system(), key_dir=key_dir)
    assert not (key_dir / NEXT_KEY_FILE).exists()
    assert load_master_key(key_dir) == old_key
    assert _wrapped(db) == before
    assert retired_master_keys(key_dir) == []
    with db.transaction(readonly=True) as session:
        assert session.scalars(select(AuditEvent.action)).all().count("keys.master_rotated") == 0
    # A .next left by a crash before the commit is discarded, not adopted.
    (key_dir / NEXT_KEY_FILE).write_text(os.urandom(32).hex() + "\n")
    done = rotate_master_key(db, Actor.system(), key_dir=key_dir)
    assert not done.finished_earlier
    assert bytes.fromhex(done.retired.read_text().strip()) == old_key
    assert _originals(db, vault_for(settings), settings)[0] == {"text": ALICE_TEXT}


def test_rotation_refuses_a_key_directory_the_database_is_not_wrapped_under(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    _seed(db, settings)
    rotate_master_key(db, Actor.system(), key_dir=settings.resolved_key_dir())
    before = _wrapped(db)
    other = tmp_path / "other-keys"
    load_master_key(other, create=True)
    with pytest.raises(Conflict, match="LOUPE_KEY_DIR"):
        rotate_master_key(db, Actor.system(), key_dir=other)
    assert _wrapped(db) == before
    assert not (other / NEXT_KEY_FILE).exists() and retired_master_keys(other) == []
    # What a server given that directory does: a Conflict (409), never wrong data.
    key_id, ciphertext, aad = _sealed(db, "a1")
    wrong = vault_for(Settings(database_url=db.url, key_dir=other))
    with db.transaction(readonly=True) as session, pytest.raises(Conflict, match="wrapped under"):
        wrong.open(session, key_id, ciphertext, aad=aad)
    with pytest.raises(Conflict, match="does not exist"):
        rotate_master_key(db, Actor.system(), key_dir=tmp_path / "missing")


def test_a_key_created_while_a_rotation_runs_ends_up_wrapped_under_the_new_key(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: an import that read the old key inserts its new subject key only after
    the rotation commits (the table lock), then re-wraps it under the new key."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: no import runs during a rotation")
    _seed(db, settings)
    key_dir = settings.resolved_key_dir()
    rewrapped, release = queue.Queue[bool](), queue.Queue[bool]()
    real = master_keys._rewrap_all

    def held(session: Any, *args: Any, **kwargs: Any) -> int:
        total = real(session, *args, **kwargs)
        rewrapped.put(True)
        release.get()
        return total

    monkeypatch.setattr(master_keys, "_rewrap_all", held)
    pids = queue.Queue[int]()

    def seal() -> list[Sealed]:
        vault = vault_for(settings)  # the old key: the rotation has not committed
        with db.transaction() as session:
            pids.put(int(session.scalar(text("SELECT pg_backend_pid()")) or 0))
            return vault.seal_many(session, [("subject:erin", "p/e1", {"text": "erin"})])

    with ThreadPoolExecutor(2) as pool:
        rotation = pool.submit(rotate_master_key, db, Actor.system(), key_dir=key_dir)
        assert rewrapped.get(timeout=60)
        sealing = pool.submit(seal)
        pid = pids.get(timeout=60)
        with db.engine.connect() as connection:
            # Ready when the import's insert waits on the rotation's lock.
            while (
                not sealing.done()
                and not connection.execute(
                    text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                    {"pid": pid},
                ).scalar_one()
            ):
                time.sleep(0.01)
                connection.rollback()
        assert not sealing.done()
        release.put(True)
        rotation.result(timeout=60)
        sealed = sealing.result(timeout=60)
    new_key = load_master_key(key_dir)
    assert SubjectKeyring(master_key=new_key, storage=_wrapped(db)).opens("subject:erin")
    with db.transaction(readonly=True) as session:
        opened = Vault(new_key).open(session, "subject:erin", sealed[0].ciphertext, aad="p/e1")
    assert opened == {"text": "erin"}
