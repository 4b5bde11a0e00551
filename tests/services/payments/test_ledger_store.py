"""The SQL tree store on both databases: batched node lookups, bulk appends (COPY on
PostgreSQL), the leaf hashes stored beside the entries, and the audit's chunked
comparison of stored nodes, all bit-identical to the in-memory log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from tests.factories import make_user

from loupe.db.database import Database
from loupe.errors import LedgerIntegrityError
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog, inclusion_plan, subtree_keys
from loupe.ledger.verify import hash_leaf
from loupe.services.access import Actor
from loupe.services.payments import ledger
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.payments.ledger_store import (
    NewEntry,
    SqlTreeStore,
    append_entries,
    publish_checkpoint,
)

SIZE = 45  # not a power of two: every level has a dangling node
NODES = 2 * SIZE - bin(SIZE).count("1")  # the perfect subtrees of 45 leaves


@pytest.fixture
def cfg(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "keys", origin="test.loupe/store"))


def _entries(cfg: LedgerConfig, user_id: int, n: int) -> list[NewEntry]:
    secret = cfg.keys.secret
    who = contributor_pseudonym(str(user_id), secret=secret)
    return [
        NewEntry(
            entry=PaymentEntry(
                kind="earning",
                contributor=who,
                item=item_digest(str(i), secret=secret),
                amount_minor=1 + i % 5,
                currency="EUR",
                rule="label.accepted",
                rate_card_version="p0.v1",
                timestamp=1_764_979_200 + i // 10,
            ),
            user_id=user_id,
        )
        for i in range(n)
    ]


@pytest.fixture
def logged(db: Database, cfg: LedgerConfig) -> list[bytes]:
    """SIZE entries appended in uneven batches (and a checkpoint); their leaves."""
    user = make_user(db, "ann")
    entries = _entries(cfg, user.id, SIZE)
    for start in range(0, SIZE, 17):
        with db.transaction() as session:
            append_entries(session, entries[start : start + 17], keys=None, checkpoint_every=10**9)
    with db.transaction() as session:
        publish_checkpoint(session, cfg.keys)
    return [item.entry.encode() for item in entries]


def _reference(leaves: list[bytes]) -> MerkleLog:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many(leaves)
    return log


def test_nodes_and_proofs_equal_the_in_memory_log(db: Database, logged: list[bytes]) -> None:
    reference = _reference(logged)
    every = [(level, index) for level in range(8) for index in range(-1, SIZE + 2)]
    with db.transaction(readonly=True) as session:
        store = SqlTreeStore(session)
        # More keys than one SQLite statement takes, absent ones (and a negative) included.
        assert store.get_nodes(every) == reference.store.get_nodes(every)
        assert store.get_nodes([]) == {}
        log = MerkleLog(store)
        for index in range(SIZE):
            for size in (index + 1, SIZE):
                proof = log.prove_inclusion(index, size)
                assert proof.path == tuple(reference.inclusion_proof(index, size))
                assert proof.root == reference.root(size)
                assert proof.leaf_hash == hash_leaf(logged[index])


def test_stored_leaf_hashes_are_the_leaves_hashes(db: Database, logged: list[bytes]) -> None:
    with db.transaction(readonly=True) as session:
        rows = session.execute(text("SELECT idx, leaf, leaf_hash FROM ledger_entries ORDER BY idx"))
        stored = [(int(i), bytes(leaf), bytes(digest)) for i, leaf, digest in rows]
    assert stored == [(i, leaf, hash_leaf(leaf)) for i, leaf in enumerate(logged)]


def test_a_taken_position_is_refused_and_nothing_is_written(
    db: Database, cfg: LedgerConfig, logged: list[bytes]
) -> None:
    with pytest.raises(LedgerIntegrityError, match="already taken"), db.transaction() as session:
        SqlTreeStore(session, size=SIZE).put_nodes({(0, SIZE): b"\1" * 32, (0, 3): b"\2" * 32})
    with db.transaction(readonly=True) as session:
        count = session.scalar(text("SELECT count(*) FROM ledger_nodes"))
    assert count == NODES


def test_the_audit_finds_each_altered_node_in_a_large_chunk(
    db: Database, cfg: LedgerConfig, logged: list[bytes]
) -> None:
    audit = ledger.audit_ledger
    with db.transaction(readonly=True) as session:
        clean = audit(session, Actor.system(), verifier_keys=cfg.keys.verifier_keys, secret=None)
    assert (clean.entries, clean.nodes, clean.problems) == (SIZE, NODES, [])
    with db.transaction() as session:
        session.execute(
            text("UPDATE ledger_nodes SET hash = :h WHERE level = 0 AND idx = 20"),
            {"h": b"\0" * 32},
        )
        session.execute(text("DELETE FROM ledger_nodes WHERE level = 1 AND idx = 5"))
        session.execute(
            text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (2, 11, :h)"),
            {"h": b"\3" * 32},
        )
    for chunk_size in (4, 1000):  # chunks within a level, and one chunk per level
        with db.transaction(readonly=True) as session:
            report = audit(
                session,
                Actor.system(),
                verifier_keys=cfg.keys.verifier_keys,
                secret=None,
                chunk_size=chunk_size,
                raise_on_problems=False,
            )
        assert report.problems == [
            "node (0, 20) differs from the hash recomputed from entries",
            "nodes (1, 5..5) are missing from ledger_nodes",
            "node (2, 11) is stored but no entry produces it",
        ]


@pytest.mark.postgres
def test_postgres_fetches_a_proofs_nodes_by_primary_key_lookups(
    db: Database, logged: list[bytes]
) -> None:
    """Regression: a row-value IN list was planned as a BitmapOr of one index scan per key
    (1.6 ms per proof at 1M entries, growing with the tree)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the query plan is PostgreSQL's")
    from loupe.db.queries.ledger_nodes import LEDGER_NODES_BY_KEY_ARRAYS

    keys = sorted(inclusion_plan(7, SIZE).keys | set(subtree_keys(0, SIZE)))
    with db.transaction(readonly=True) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a 45-row table: plan as if big
        raw = session.connection().connection.driver_connection
        plan = "\n".join(
            row[0]
            for row in raw.execute(
                "EXPLAIN " + LEDGER_NODES_BY_KEY_ARRAYS.sql,
                ([k[0] for k in keys], [k[1] for k in keys]),
            )
        )
    assert "BitmapOr" not in plan
    assert "Index Scan using pk_ledger_nodes" in plan
