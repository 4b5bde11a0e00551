"""Converting subject ids stored in clear (before refs were) into their keyed refs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.factories import (
    add_legacy_item,
    add_media,
    database_files,
    every_row,
    make_project,
    subject_key_of,
)

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import AuditEvent, ItemVault, SubjectKey
from loupe.formats import parse_item
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for, vault_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.retention import run_retention
from loupe.services.compliance.subject_refs import (
    CONVERT_ACTION,
    SubjectIdConversion,
    clear_subject_ids,
    convert_subject_ids,
    finish_conversion,
)
from loupe.services.compliance.subjects import erase_subject, export_subject, finish_erasure
from loupe.services.compliance.vault import Vault, load_ref_key, subject_ref
from loupe.services.projects import items
from loupe.settings import Settings
from loupe.storage import blob_store_for

ANA, EVE, GONE, ZOE = "ana.ruiz@example.org", "eve@example.org", "gone@example.org", "zoe"
SYSTEM = Actor.system()


def _import(db: Database, settings: Settings, project: int, rows: list[dict[str, Any]]) -> None:
    records = [parse_item(row, where="t", text_field="text") for row in rows]
    with gate_for(settings) as gate, db.transaction() as session:
        items.insert_items(session, SYSTEM, project, records, gate=gate)


def _convert(db: Database, settings: Settings) -> SubjectIdConversion:
    with db.transaction() as session:
        done = convert_subject_ids(
            session, SYSTEM, vault=vault_for(settings), ref_key=_key(settings)
        )
    finish_conversion(db)
    return done


def _key(settings: Settings) -> bytes:
    return load_ref_key(settings.resolved_key_dir())


def _originals(db: Database, settings: Settings, subject: str) -> dict[str, Any]:
    with db.transaction() as session:
        found = export_subject(
            session, SYSTEM, subject, vault=vault_for(settings), ref_key=_key(settings)
        )
    assert found.key_held
    return {item["external_id"]: item["original"] for item in found.items}


def _orphan_key(db: Database, vault: Vault, subject: str) -> None:
    """An old key that seals nothing stored: its import died after sealing media."""
    with db.transaction() as session:
        vault.seal_many(session, [(f"subject:{subject}", "0/x", {"text": "lost"})])


def test_conversion_rewrites_every_id_in_clear_and_keeps_subjects_erasable(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    project = make_project(db)
    vault = vault_for(settings)
    store = blob_store_for(settings)
    first = add_legacy_item(db, vault, project, "a1", ANA, "ana's first words")
    add_legacy_item(db, vault, project, "a2", ANA, "ana's second words")
    photo = b"ana's photo, unblurred"
    add_media(db, first, store=store, original=photo, vault=vault)
    add_legacy_item(db, vault, project, "e1", EVE, "eve before the upgrade")
    # Eve and Zoe were imported again after the upgrade: they have a key named by ref too.
    _import(
        db,
        settings,
        project,
        [
            {"id": "e2", "text": "eve after the upgrade", "subject_id": EVE},
            {"id": "z1", "text": "zoe after the upgrade", "subject_id": ZOE},
        ],
    )
    _orphan_key(db, vault, GONE)
    _orphan_key(db, vault, ZOE)
    with db.transaction(readonly=True) as session:
        assert clear_subject_ids(session) == sorted([ANA, EVE, GONE, ZOE])

    done = _convert(db, settings)

    # Ana's and Gone's keys take their ref's name; Eve's old key one beside her new key;
    # Zoe's old key sealed nothing and her ref has a key: shredded.
    assert done == SubjectIdConversion(subjects=4, items=3, keys_renamed=3, keys_shredded=1)
    key = _key(settings)
    refs = {subject: subject_ref(subject, key=key) for subject in (ANA, EVE, GONE, ZOE)}
    with db.transaction(readonly=True) as session:
        assert clear_subject_ids(session) == []
        stored = {r.external_id: r.subject_id for r in session.scalars(select(Item))}
        owners = {"a1": ANA, "a2": ANA, "e1": EVE, "e2": EVE, "z1": ZOE}
        assert stored == {item: refs[subject] for item, subject in owners.items()}
        names = set(session.scalars(select(SubjectKey.key_id)))
        vaults = {r.item_id: r.key_id for r in session.scalars(select(ItemVault))}
        (media_key,) = session.scalars(select(ItemMedia.key_id))
    eve_old = vaults[3]
    assert eve_old.startswith(subject_key_of(settings.resolved_key_dir(), EVE) + ":")
    assert {n for n in names if n.startswith("subject:")} == {
        subject_key_of(settings.resolved_key_dir(), s) for s in (ANA, EVE, GONE, ZOE)
    } | {eve_old}
    assert vaults[1] == vaults[2] == media_key == subject_key_of(settings.resolved_key_dir(), ANA)
    # Nothing stored names anyone in clear: not a row, nor (SQLite) a byte of the files.
    dump = every_row(db)
    for subject in (ANA, EVE, GONE, ZOE):
        assert f"'{subject}'" not in dump and f"subject:{subject}'" not in dump
    if db.engine.dialect.name == "sqlite":
        for name, raw in database_files(db).items():
            for subject in (ANA, EVE, GONE):
                assert subject.encode() not in raw, (name, subject)
    # Renamed keys still open what they sealed.
    assert _originals(db, settings, ANA) == {
        "a1": {"text": "ana's first words"},
        "a2": {"text": "ana's second words"},
    }
    assert _originals(db, settings, EVE) == {
        "e1": {"text": "eve before the upgrade"},
        "e2": {"text": "eve after the upgrade"},
    }
    # Idempotent: nothing left, nothing done, audited once.
    assert _convert(db, settings) == SubjectIdConversion(0, 0, 0, 0)
    with db.transaction(readonly=True) as session:
        events = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == CONVERT_ACTION)
        ).all()
    assert events == [{"subjects": 4, "items": 3, "keys_renamed": 3, "keys_shredded": 1}]
    # Erasure finds every key: the one named by ref, and Eve's old one through her item.
    with db.transaction() as session:
        erased = erase_subject(session, SYSTEM, EVE, ref_key=key)
        gone = erase_subject(session, SYSTEM, GONE, ref_key=key)
    assert (len(erased.receipt["items"]), erased.receipt["keys_shredded"]) == (2, 2)
    assert (gone.receipt["items"], gone.receipt["keys_shredded"]) == ([], 1)
    finish_erasure(db, store=ModelStore(tmp_path / "models"))
    with db.transaction(readonly=True) as session:
        left = {k for k in session.scalars(select(SubjectKey.key_id)) if k.startswith("subject:")}
    assert left == {subject_key_of(settings.resolved_key_dir(), s) for s in (ANA, ZOE)}


def test_retention_shreds_every_key_of_a_subject_once_its_last_item_goes(
    db: Database, settings: Settings
) -> None:
    project = make_project(db)
    vault = vault_for(settings)
    add_legacy_item(db, vault, project, "l1", "lou", "lou before the upgrade")
    add_legacy_item(db, vault, project, "e1", EVE, "eve before the upgrade")
    _import(
        db,
        settings,
        project,
        [
            {"id": "l2", "text": "lou after the upgrade", "subject_id": "lou"},
            {"id": "e2", "text": "eve after the upgrade", "subject_id": EVE},
            {"id": "k1", "text": "kim stays", "subject_id": "kim"},
        ],
    )
    with db.transaction() as session:
        set_privacy(session, SYSTEM, project, retention_days=30)

    def expire(*external_ids: str) -> int:
        with db.transaction() as session:
            session.execute(
                update(Item)
                .where(Item.external_id.in_(external_ids))
                .values(created_at=utcnow() - timedelta(days=31))
            )
            return run_retention(session, SYSTEM).purges[0].keys_shredded

    # Not converted: Lou's id in clear and his ref each name a key of their own.
    assert expire("l1", "l2") == 2
    # Converted: Eve's old key was renamed beside the one named by her ref.
    assert _convert(db, settings).keys_renamed == 1
    assert expire("e1", "e2") == 2
    with db.transaction(readonly=True) as session:
        left = {k for k in session.scalars(select(SubjectKey.key_id)) if k.startswith("subject:")}
    assert left == {subject_key_of(settings.resolved_key_dir(), "kim")}


@pytest.mark.parametrize("raw", ["Ana@Example.org", "hmac:not-a-ref", "x" * 255])
def test_any_id_that_is_not_a_ref_is_converted(db: Database, settings: Settings, raw: str) -> None:
    project = make_project(db)
    add_legacy_item(db, vault_for(settings), project, "a", raw, "words")
    assert _convert(db, settings).items == 1
    with db.transaction(readonly=True) as session:
        assert session.scalars(select(Item.subject_id)).one() == subject_ref(
            raw, key=_key(settings)
        )
