"""Import writes: a data subject's id is stored only as its keyed ref."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import make_project, snapshot

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.db.privacy_models import ItemVault, SubjectKey
from loupe.errors import InvalidInput
from loupe.formats import ItemRecord, parse_item
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.vault import load_ref_key, subject_key_id, subject_ref
from loupe.services.projects.imports import import_records
from loupe.services.projects.items import insert_items
from loupe.settings import Settings

ANA = "ana.ruiz@example.org"


def _rows(subject: str, *ids: str) -> list[ItemRecord]:
    return [
        parse_item({"id": i, "text": f"call {i} back", "subject_id": subject}, where="t",
                   text_field="text")
        for i in ids
    ]  # fmt: skip


def test_an_import_never_writes_the_subject_id_to_the_database_file(
    db: Database, settings: Settings
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite file")
    sealed, public = make_project(db, name="sealed"), make_project(db, name="public")
    with db.transaction() as session:
        set_privacy(session, Actor.system(), public, gate=False)
    with gate_for(settings) as gate:
        for project in (sealed, public):
            import_records(db, Actor.system(), project, _rows(ANA, "1", "2"), gate=gate)
    # Read at once, with the engine still open: the main file and its write-ahead log.
    path = Path(db.url.removeprefix("sqlite:///"))
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            assert ANA.encode() not in name.read_bytes(), name
    ref = subject_ref(ANA, key=load_ref_key(settings.resolved_key_dir()))
    with db.transaction(readonly=True) as session:
        assert set(session.scalars(select(Item.subject_id))) == {ref}
        assert set(session.scalars(select(ItemVault.key_id))) == {subject_key_id(ref)}
        assert set(session.scalars(select(SubjectKey.key_id))) == {f"subject:{ref}"}


def test_a_gate_without_a_ref_key_refuses_subject_ids(db: Database) -> None:
    """Fail closed: with no ref key the id could be stored only in clear, or lost."""
    project = make_project(db)
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(InvalidInput, match="subject-ref key"):
        insert_items(session, Actor.system(), project, _rows(ANA, "1"))
    assert snapshot(db) == before
    anonymous = parse_item({"id": "2", "text": "play jazz"}, where="t", text_field="text")
    with db.transaction() as session:
        assert insert_items(session, Actor.system(), project, [anonymous]).created == 1
