from __future__ import annotations

import hashlib
import json
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.factories import (
    add_legacy_item,
    count,
    every_row,
    hold_in,
    make_project,
    make_user,
    pause_after,
    run_until_blocked,
)
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db.database import Database
from loupe.db.loop_models import ModelVersionRecord
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import ErasureReceipt
from loupe.db.scrub import _widen, scrub
from loupe.errors import NotFound
from loupe.formats import ItemRecord, parse_item
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate, gate_for, vault_for
from loupe.services.compliance.subjects import (
    Erasure,
    erase_subject,
    export_subject,
    finish_erasure,
)
from loupe.services.compliance.vault import (
    REF_KEY_FILE,
    legacy_subject_ref,
    load_ref_key,
    subject_ref,
)
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop.model_versions import (
    champion_model,
    model_key,
    retrain,
)
from loupe.services.model_loop.retrain_schedule import projects_due_for_retrain
from loupe.services.projects import items
from loupe.services.projects.imports import import_records
from loupe.settings import Settings

ZED_ID = "zed.quokka@example.org"
ZED_WORDS = ("zebulonique", "quokkaberry")


def _add_zed(db: Database, project: int, person_actor: Actor, *, ref_key: bytes) -> None:
    record = parse_item(
        {"id": ZED_ID, "text": f"call the {ZED_WORDS[0]} {ZED_WORDS[1]} tune", "subject_id": "zed"},
        where="t",
        text_field="text",
    )
    with db.transaction() as session:
        items.insert_items(
            session, Actor.system(), project, [record], gate=PrivacyGate(ref_key=ref_key)
        )
    with db.transaction() as session:
        zed = subject_ref("zed", key=ref_key)
        item_id = session.scalar(select(Item.id).where(Item.subject_id == zed))
        assert item_id is not None and person_actor.user_id is not None
        hold_in(session, person_actor.user_id, project, item_id)
        submit_label(session, person_actor, project, item_id, "call")


def test_erasure_retires_the_models_trained_on_the_subject_and_deletes_their_files(
    db: Database, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    ref_key = load_ref_key(tmp_path / "keys")
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction() as session:
        clean = retrain(session, manager.actor, project, store=store).record
    assert clean.promoted
    _add_zed(db, project, manager.actor, ref_key=ref_key)
    with db.transaction() as session:
        tainted = retrain(session, manager.actor, project, store=store)
        # Promoted whatever its score: the champion is the one trained on the subject.
        tainted.record.promoted = True
        store.save(model_key(project, 2), tainted.model)
    model_files = sorted((tmp_path / "models").rglob("*.model"))
    assert len(model_files) == 2
    assert ZED_WORDS[1].encode() in model_files[1].read_bytes()  # the check can see it
    with db.transaction() as session:
        erased = erase_subject(session, Actor.system(), "zed", ref_key=ref_key)
    assert erased.receipt["models_retired"] == [f"project:{project}/v2"]
    assert erased.receipt["models_retrain"] == [project]
    done = finish_erasure(db, store=store)
    assert done.model_files_deleted == [f"project-{project}/v2"]
    assert done.storage.complete
    # No saved model and no column holds the subject's words or external id.
    for path in (tmp_path / "models").rglob("*"):
        if path.is_file():
            for secret in (*ZED_WORDS, ZED_ID):
                assert secret.encode() not in path.read_bytes(), path
    dump = every_row(db)
    for secret in (*ZED_WORDS, ZED_ID):
        assert secret not in dump
    with db.transaction(readonly=True) as session:
        ids = session.scalars(select(ModelVersionRecord.training_ids)).all()
        assert all(isinstance(i, int) for version in ids for i in version)
        # The clean champion serves again; the project is due for a retrain.
        found = champion_model(session, manager.actor, project, store=store)
        assert found is not None and found[0].version == 1
        assert projects_due_for_retrain(session, every=10**6) == [project]
    with db.transaction() as session:
        third = retrain(session, manager.actor, project, store=store).record
    with db.transaction(readonly=True) as session:
        assert projects_due_for_retrain(session, every=10**6) == []
    assert third.trained_on_erased_at is None
    assert finish_erasure(db, store=store).model_files_deleted == []  # idempotent


def test_the_receipt_lists_only_the_models_trained_on_the_subjects_items(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 6)
    with db.transaction() as session:
        trained = retrain(session, manager.actor, project).record
        item = session.scalar(select(Item).where(Item.external_id == "l-call-0"))
        assert item is not None and item.id in trained.training_ids
        item.subject_id = "alice"
        gold = session.scalar(select(Item).where(Item.external_id == "g-call-0"))
        assert gold is not None
        gold.subject_id = "bob"
    with db.transaction() as session:
        alice = erase_subject(session, Actor.system(), "alice", ref_key=bytes(32))
        bob = erase_subject(session, Actor.system(), "bob", ref_key=bytes(32))
    assert alice.receipt["models_retired"] == [f"project:{project}/v1"]
    assert bob.receipt["models_retired"] == []  # gold items are not trained on
    assert (alice.receipt["models_retrain"], bob.receipt["models_retrain"]) == ([project], [])


def test_subject_refs_are_keyed_per_deployment(tmp_path: Path) -> None:
    one = load_ref_key(tmp_path / "one")
    two = load_ref_key(tmp_path / "two")
    ref = subject_ref("ana@example.org", key=one)
    assert ref != "sha256:" + hashlib.sha256(b"ana@example.org").hexdigest()
    assert hashlib.sha256(b"ana@example.org").hexdigest() not in ref
    assert ref != subject_ref("ana@example.org", key=two)
    assert ref == subject_ref("ana@example.org", key=load_ref_key(tmp_path / "one"))
    assert stat.S_IMODE((tmp_path / "one" / REF_KEY_FILE).stat().st_mode) == 0o600


def test_receipts_and_audit_name_the_subject_only_by_its_keyed_ref(
    db: Database, tmp_path: Path
) -> None:
    key = load_ref_key(tmp_path / "keys")
    project = make_project(db)
    record = parse_item(
        {"id": "1", "text": "hello", "subject_id": "ana@example.org"}, where="t", text_field="text"
    )
    with db.transaction() as session:
        items.insert_items(
            session, Actor.system(), project, [record], gate=PrivacyGate(ref_key=key)
        )
    with db.transaction() as session:
        erased = erase_subject(session, Actor.system(), "ana@example.org", ref_key=key)
    assert erased.receipt["subject_ref"] == subject_ref("ana@example.org", key=key)
    legacy = hashlib.sha256(b"ana@example.org").hexdigest()
    assert legacy not in every_row(db)
    assert "ana@example.org" not in every_row(db)


def test_export_finds_receipts_written_with_legacy_unkeyed_refs(
    db: Database, settings: Settings
) -> None:
    """Refs written before revision 0009 cannot be re-keyed; lookups try both forms."""
    key = load_ref_key(settings.resolved_key_dir())
    receipt = json.dumps({"type": "loupe.erasure/v1", "subject_ref": legacy_subject_ref("eve")})
    with db.transaction() as session:
        session.add(
            ErasureReceipt(
                subject_ref=legacy_subject_ref("eve"),
                receipt=receipt,
                sha256=hashlib.sha256(receipt.encode()).hexdigest(),
                created_at=utcnow(),
            )
        )
    with db.transaction() as session:
        found = export_subject(
            session, Actor.system(), "eve", vault=vault_for(settings), ref_key=key
        )
    assert found.subject_ref == subject_ref("eve", key=key)
    assert [r["receipt"]["subject_ref"] for r in found.erasure_receipts] == [
        legacy_subject_ref("eve")
    ]
    with db.transaction() as session, pytest.raises(NotFound):
        export_subject(session, Actor.system(), "mallory", vault=vault_for(settings), ref_key=key)


def _postgresql_item_of_ana(db: Database) -> None:
    """One item of data subject ``ana`` (PostgreSQL only: the tests read its VACUUM)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    record = parse_item(
        {"id": "1", "text": "hello", "subject_id": "ana"}, where="t", text_field="text"
    )
    with db.transaction() as session:
        gate = PrivacyGate(ref_key=bytes(32))
        items.insert_items(session, Actor.system(), make_project(db), [record], gate=gate)


def test_postgresql_erasure_vacuums_the_tables_it_touched(db: Database, tmp_path: Path) -> None:
    _postgresql_item_of_ana(db)
    with db.transaction() as session:
        erase_subject(session, Actor.system(), "ana", ref_key=bytes(32))
    done = finish_erasure(db, store=ModelStore(tmp_path / "models"))
    assert done.storage.backend == "postgresql" and done.storage.complete
    assert "items" in done.storage.action and "item_vaults" in done.storage.action
    # The scrub waited for every transaction older than it (the other pytest worker's
    # included), so VACUUM freed the row.
    assert _dead_items(db) == 0


def test_postgresql_scrub_says_when_an_older_snapshot_kept_the_rows(
    db: Database, tmp_path: Path
) -> None:
    _postgresql_item_of_ana(db)
    reader = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with reader.begin():
            # A snapshot taken before the erasure: it still sees the subject's row.
            assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
            with db.transaction() as session:
                erase_subject(session, Actor.system(), "ana", ref_key=bytes(32))
            held = scrub(db.engine, tables=("items",), attempts=2)
            assert held.backend == "postgresql" and not held.complete
            assert held.action == "VACUUM items"
            assert "transaction of process" in held.detail and "next VACUUM" in held.detail
            assert _dead_items(db) == 1
    finally:
        reader.close()
    done = scrub(db.engine, tables=("items",))
    assert done.complete and done.detail == ""
    assert _dead_items(db) == 0


def test_widen_maps_32_bit_ids_to_the_64_bit_id_just_before_now() -> None:
    now = 5 * 2**32 + 100
    assert _widen(90, now) == 5 * 2**32 + 90
    assert _widen(2**32 - 10, now) == 5 * 2**32 - 10
    assert _widen(100, now) == now


def _dead_items(db: Database) -> int:
    with db.engine.connect() as connection:
        dead: int = connection.execute(
            text(
                "SELECT n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname = 'items' AND schemaname = current_schema()"
            )
        ).scalar_one()
    return dead


def test_finishing_an_erasure_empties_the_cache_of_sentence_vectors(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loupe.learning import embeddings

    cache = embeddings.EncodingCache(lambda texts: [[1.0, 0.0] for _ in texts])
    cache(["call ana on her mobile"])
    monkeypatch.setattr(embeddings, "packaged_encoder", lambda: cache)
    monkeypatch.setattr(embeddings, "forget_encodings", cache.clear)
    finish_erasure(db, store=ModelStore(tmp_path / "models"))
    assert len(cache) == 0


ANA = "ana.ruiz@example.org"


def test_erasure_and_export_find_items_stored_by_ref_and_in_clear(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Rows written before subject refs were stored hold the id in clear (until converted):
    an access request and an erasure by that id find them beside the rows stored by ref."""
    project = make_project(db)
    vault = vault_for(settings)
    key = load_ref_key(settings.resolved_key_dir())
    add_legacy_item(db, vault, project, "old", ANA, "zebulonique words")
    rows = [
        {"id": "new", "text": "quokkaberry words", "subject_id": ANA},
        {"id": "bob", "text": "bob says play jazz", "subject_id": "bob"},
    ]
    records = [parse_item(row, where="t", text_field="text") for row in rows]
    with gate_for(settings) as gate, db.transaction() as session:
        items.insert_items(session, Actor.system(), project, records, gate=gate)
    with db.transaction() as session:
        found = export_subject(session, Actor.system(), ANA, vault=vault, ref_key=key)
    assert found.key_held
    assert {i["external_id"]: i["original"] for i in found.items} == {
        "old": {"text": "zebulonique words"},
        "new": {"text": "quokkaberry words"},
    }
    with db.transaction() as session:
        erased = erase_subject(session, Actor.system(), ANA, ref_key=key)
    assert [i["item_id"] for i in erased.receipt["items"]] == [1, 2]
    assert erased.receipt["keys_shredded"] == 2  # subject:<id> and subject:<ref>
    assert finish_erasure(db, store=ModelStore(tmp_path / "models")).storage.complete
    dump = every_row(db)
    for secret in (ANA, "zebulonique", "quokkaberry"):
        assert secret not in dump
    with db.transaction() as session:
        assert session.scalars(select(Item.external_id)).all() == ["bob"]
        after = export_subject(session, Actor.system(), ANA, vault=vault, ref_key=key)
    assert (after.items, after.key_held, len(after.erasure_receipts)) == ([], False, 1)


def _zed(i: int) -> ItemRecord:
    return parse_item(
        {"id": f"z{i}", "text": f"zed's call {i}", "subject_id": "zed"},
        where="t",
        text_field="text",
    )


def _erase_zed(db: Database, ref_key: bytes) -> Erasure:
    with db.transaction() as session:
        return erase_subject(session, Actor.system(), "zed", ref_key=ref_key)


def test_an_erasure_while_an_import_seals_the_subjects_new_item_leaves_none_behind(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (PostgreSQL): an erasure that ran while an import's batch was sealing a
    new item of the subject under the subject's key shredded the key and committed; the
    batch committed after it, and the item stayed, sealed under a key that no longer
    existed (its original lost, its redacted copy kept). Now the erasure waits for the
    batch, and erases its item too."""
    project = make_project(db)
    ref_key = load_ref_key(settings.resolved_key_dir())
    with gate_for(settings) as gate:
        import_records(db, Actor.system(), project, [_zed(1)], gate=gate)
        pause = pause_after(monkeypatch, items, "_seal")
        with ThreadPoolExecutor(1) as pool:
            importing = pool.submit(
                import_records, db, Actor.system(), project, [_zed(2)], gate=gate
            )
            assert pause.reached.wait(60)
            erasing = run_until_blocked(db, lambda: _erase_zed(db, ref_key))
            pause.go.set()
            assert importing.result(60).created == 1
            erased = erasing.result(60)
    assert [i["item_id"] for i in erased.receipt["items"]] == [1, 2]
    assert count(db, "items") == count(db, "item_vaults") == count(db, "subject_keys") == 0


def test_an_erasure_counts_the_label_of_a_submit_in_flight(
    db: Database, settings: Settings
) -> None:
    """Regression (PostgreSQL): the erasure counted the subject's labels before it deleted
    the items, without waiting for a submit holding one of them; the label submitted then
    went with its item, uncounted (the receipt said 0 labels deleted)."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    ref_key = load_ref_key(settings.resolved_key_dir())
    with gate_for(settings) as gate:
        import_records(db, Actor.system(), project, [_zed(1)], gate=gate)
    submitted, go = threading.Event(), threading.Event()

    def submit() -> None:
        with db.transaction() as session:
            hold_in(session, ann.id, project, 1)
            submit_label(session, ann.actor, project, 1, "call")
            submitted.set()
            assert go.wait(60)

    with ThreadPoolExecutor(1) as pool:
        submitting = pool.submit(submit)
        assert submitted.wait(60)
        erasing = run_until_blocked(db, lambda: _erase_zed(db, ref_key))
        go.set()
        submitting.result(60)
        erased = erasing.result(60)
    assert erased.receipt["labels_deleted"] == 1
    assert count(db, "labels") == count(db, "items") == 0
