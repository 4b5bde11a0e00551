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


def _unnamed(text: str) -> ItemRecord:
    return parse_item({"text": text, "subject_id": ANA}, where="t", text_field="text")


def test_a_row_without_an_id_is_not_named_by_a_hash_anyone_can_compute(
    db: Database, settings: Settings
) -> None:
    # Without an id a row is named by a hash of its content. Unkeyed, that hash is an
    # oracle: whoever sees the id (every annotator, every export) can hash guesses of
    # what the gate redacted ("Call <a listed name>", a subject's e-mail address) until
    # one matches. In a gated project it is keyed like a gated id.
    project = make_project(db)
    row = _unnamed("Call Ana Ruiz on +44 20 7946 0958")
    with gate_for(settings) as gate:
        first = import_records(db, Actor.system(), project, [row], gate=gate)
    with gate_for(settings) as gate:  # the same key: a re-import finds the row
        again = import_records(db, Actor.system(), project, [row], gate=gate)
    assert (first.created, again.created, again.existing) == (1, 0, 1)
    with db.transaction(readonly=True) as session:
        stored = session.scalars(select(Item.external_id)).one()
    unkeyed = row.external_id.removeprefix("sha256:")
    assert unkeyed not in stored
    assert stored.startswith("row~")


def test_a_row_stored_under_its_unkeyed_hash_before_is_not_imported_twice(
    db: Database, settings: Settings
) -> None:
    project = make_project(db)
    row = _unnamed("Call Ana Ruiz on +44 20 7946 0958")
    # As an older Loupe stored it: a content hash any reader can recompute.
    with db.transaction() as session:
        session.add(
            Item(project_id=project, external_id=row.external_id, data={"text": "x"}, meta={})
        )
    with gate_for(settings) as gate:
        again = import_records(db, Actor.system(), project, [row], gate=gate)
    assert (again.created, again.existing) == (0, 1)
