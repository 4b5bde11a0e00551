"""Imports write in short transactions and gate outside them (issue 18)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import pytest
from sqlalchemy import select
from tests.factories import (
    count,
    make_project,
    pause_after,
    run_until_blocked,
    snapshot,
)
from tests.services.import_probe import ProbeGate

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.db.raw import Raw
from loupe.errors import InvalidInput
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.projects import imports
from loupe.services.projects.imports import import_records, import_stream


def _reopen(text: str) -> object:
    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        yield io.StringIO(text)

    return reopen


def test_an_import_gates_outside_the_writer_and_commits_each_batch(db: Database) -> None:
    project = make_project(db)
    lines = "".join(f'{{"id": "r{i}", "text": "call {i}"}}\n' for i in range(7))
    gate = ProbeGate(db)
    result = import_stream(
        db,
        Actor.system(),
        project,
        reopen=_reopen(lines),
        fmt="jsonl",
        batch_size=3,
        gate_chunk=3,
        gate=gate,
    )
    assert (result.received, result.created, result.existing) == (7, 7, 0)
    # Before each batch is gated, nobody holds the writer and the batches before it
    # are committed (the old code gated inside one long write transaction).
    assert gate.seen == [(True, 0), (True, 3), (True, 6)]
    assert count(db, "items") == 7


def test_a_rerun_skips_present_ids_and_gates_nothing_again(db: Database) -> None:
    project = make_project(db)
    lines = "".join(f'{{"id": "r{i}", "text": "call {i}"}}\n' for i in range(4))
    import_stream(db, Actor.system(), project, reopen=_reopen(lines), fmt="jsonl", batch_size=2)
    gate = ProbeGate(db)
    again = import_stream(
        db,
        Actor.system(),
        project,
        reopen=_reopen(lines),
        fmt="jsonl",
        batch_size=2,
        gate_chunk=2,
        gate=gate,
    )
    assert (again.received, again.created, again.existing) == (4, 0, 4)
    assert gate.seen == []
    assert count(db, "items") == 4


def test_a_bad_row_anywhere_writes_nothing(db: Database) -> None:
    project = make_project(db)
    before = snapshot(db)
    lines = "".join(f'{{"id": "r{i}", "text": "call {i}"}}\n' for i in range(5)) + '{"id": 9}\n'
    with pytest.raises(InvalidInput, match="line 6"):
        import_stream(db, Actor.system(), project, reopen=_reopen(lines), fmt="jsonl", batch_size=2)
    assert snapshot(db) == before


def test_import_records_counts_duplicates_and_present_ids(db: Database) -> None:
    project = make_project(db)
    rows = [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}]
    records = [parse_item(row, where="t", text_field="text") for row in rows]
    first = import_records(db, Actor.system(), project, records, batch_size=2)
    assert (first.received, first.created) == (3, 2)
    second = import_records(db, Actor.system(), project, records[:2])
    assert (second.received, second.created, second.existing) == (2, 0, 2)


def test_a_gated_chunk_is_written_in_smaller_transactions(db: Database) -> None:
    project = make_project(db)
    records = [
        parse_item({"id": i, "text": f"t {i}"}, where="t", text_field="text") for i in range(5)
    ]
    gate = ProbeGate(db)
    result = import_records(
        db, Actor.system(), project, records, gate=gate, batch_size=2, gate_chunk=5
    )
    assert (result.received, result.created) == (5, 5)
    assert gate.seen == [(True, 0)]


def test_batches_pause_only_when_another_writer_may_wait(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause between write batches lets a waiting annotator in; with nobody who could
    be waiting it would only slow the import down (who could: tests/db/test_writer_lock.py,
    tests/db/test_sqlite_sharing.py)."""
    project = make_project(db)
    records = [
        parse_item({"id": i, "text": f"t {i}"}, where="t", text_field="text") for i in range(4)
    ]
    pauses: list[float] = []
    monkeypatch.setattr(imports.time, "sleep", pauses.append)
    import_records(db, Actor.system(), project, records[:2], batch_size=1)
    assert pauses == []
    monkeypatch.setattr(Database, "bulk_writer_should_yield", lambda self: True)
    import_records(db, Actor.system(), project, records[2:], batch_size=1)
    assert pauses == [imports.WRITE_PAUSE_S] * 2
    assert count(db, "items") == 4


def test_a_lone_importer_writes_a_chunk_per_transaction_until_someone_may_wait(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``alone`` (the CLI): with nobody who could wait for the writer, a gated chunk is
    one transaction (each has a synced commit); once someone may wait, short ones again."""
    project = make_project(db)
    records = [
        parse_item({"id": i, "text": f"t {i}"}, where="t", text_field="text") for i in range(8)
    ]
    writes: list[int] = []
    write = imports.write_batch

    def counted(session: Any, batch: Any, gate: Any) -> Any:
        writes.append(len(batch.records))
        return write(session, batch, gate)

    monkeypatch.setattr(imports, "write_batch", counted)
    monkeypatch.setattr(imports.time, "sleep", lambda _: None)
    options: dict[str, Any] = {"batch_size": 2, "gate_chunk": 4, "alone": True}
    import_records(db, Actor.system(), project, records[:4], **options)
    import_records(db, Actor.system(), project, records[:4], alone=False, batch_size=2)
    assert writes == [4]  # the second import found every id stored: nothing to write
    monkeypatch.setattr(Database, "bulk_writer_should_yield", lambda self: True)
    import_records(db, Actor.system(), project, records[4:], **options)
    assert writes == [4, 2, 2]
    assert count(db, "items") == 8


def _stored(db: Database, project: int) -> dict[str, Any]:
    with db.transaction(readonly=True) as session:
        rows = session.execute(
            select(Item.external_id, Item.data).where(Item.project_id == project)
        ).all()
    return {str(external_id): data for external_id, data in rows}


def test_a_lone_importer_gates_the_next_chunk_while_writing_this_one(db: Database) -> None:
    """Alone (the CLI, nobody attached), chunk k is handed to the gate before chunk k-1 is
    written, still outside any transaction; otherwise one chunk at a time (test above)."""
    project = make_project(db)
    records = [
        parse_item({"id": f"r{i}", "text": f"call {i}"}, where="t", text_field="text")
        for i in range(7)
    ]
    gate = ProbeGate(db)
    result = import_records(
        db, Actor.system(), project, records, gate=gate, gate_chunk=3, alone=True
    )
    assert (result.received, result.created) == (7, 7)
    expected = [(True, 0), (True, 0), (True, 3)]
    if db.engine.dialect.name == "sqlite" and db.bulk_writer_should_yield():
        expected = [(True, 0), (True, 3), (True, 6)]  # another process has the file open
    assert gate.seen == expected


@pytest.mark.parametrize("alone", [True, False])
def test_a_gate_pool_stores_what_one_process_does(db: Database, alone: bool) -> None:
    """With a pool, and alone, chunk k is gated while chunk k-1 is written. An id repeated
    in the next chunk is looked up before its first copy is written: stored once."""
    rows = [{"id": f"r{i}", "text": f"call {i} at +44 20 7946 {i:04d}"} for i in range(2_400)]
    rows.insert(1_500, {"id": "r999", "text": "a second copy, ignored"})
    records = [parse_item(row, where="t", text_field="text") for row in rows]
    one, pooled = make_project(db, name="one"), make_project(db, name="pooled")
    first = import_records(db, Actor.system(), one, records, gate_chunk=1_000)
    with PrivacyGate(workers=2) as gate:
        second = import_records(
            db, Actor.system(), pooled, records, gate=gate, gate_chunk=1_000, alone=alone
        )
    assert (second.received, second.created) == (first.received, first.created) == (2_401, 2_400)
    stored = _stored(db, pooled)
    assert stored == _stored(db, one)
    assert stored["r999"] == {"text": "call 999 at [PHONE]"}


PHONE = "+44 20 7946 0958"


@pytest.mark.parametrize("alone", [True, False])
def test_items_written_after_the_gate_is_switched_on_are_gated(
    db: Database, monkeypatch: pytest.MonkeyPatch, alone: bool
) -> None:
    """Regression: a chunk was written under the settings read before it was gated, so an
    import running while a manager switched the gate on stored the rest of its items as
    given (personal data in clear in a gated project). Now the write sees the change and
    the chunk is gated again."""
    project = make_project(db)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, gate=False)
    records = [
        parse_item({"id": f"r{i}", "text": f"ring {PHONE}"}, where="t", text_field="text")
        for i in range(4)
    ]
    look_up = imports.new_records
    switched: list[bool] = []

    def switching(*args: Any, **kwargs: Any) -> Any:
        found = look_up(*args, **kwargs)
        if not switched:  # gated under "off", switched on before it is written
            switched.append(True)
            with db.transaction() as session:
                set_privacy(session, Actor.system(), project, gate=True)
        return found

    monkeypatch.setattr(imports, "new_records", switching)
    result = import_records(
        db, Actor.system(), project, records, gate_chunk=2, batch_size=2, alone=alone
    )
    assert (result.received, result.created) == (4, 4)
    assert _stored(db, project) == {f"r{i}": {"text": "ring [PHONE]"} for i in range(4)}


def test_changing_the_privacy_settings_waits_for_a_batch_being_written(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch checks the settings in its write transaction and they hold until it
    commits: on PostgreSQL a change of them waits for it (before, it went through, and
    the batch committed gated under settings no longer the project's)."""
    project = make_project(db)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy="placeholder")
    pause = pause_after(monkeypatch, Raw, "insert")  # the batch's items, not committed
    records = [parse_item({"id": "a", "text": f"ring {PHONE}"}, where="t", text_field="text")]
    with ThreadPoolExecutor(1) as pool:
        importing = pool.submit(import_records, db, Actor.system(), project, records)
        assert pause.reached.wait(60)

        def withhold() -> None:
            with db.transaction() as session:
                set_privacy(session, Actor.system(), project, policy="withhold")

        changing = run_until_blocked(db, withhold)
        assert not changing.done()
        pause.go.set()
        assert importing.result(60).created == 1
        changing.result(60)
    assert _stored(db, project) == {"a": {"text": "ring [PHONE]"}}
