"""Benchmark the database-backed payment log: appends, proofs, audit, submit cost.

Run: ``.venv/bin/python bench/ledger/bench_ledger_db.py`` (SQLite, 1,000,000 entries; a
few minutes). ``--entries 100000`` for a quick look. ``--database-url
postgresql://postgres@127.0.0.1:5432/test`` runs it on PostgreSQL, in a scratch database
(``ledger_bench``, created on that server and dropped afterwards). Results go to
docs/benchmarks-ledger.md.

What it measures, on a fresh migrated database:

1. batched appends: ``append_entries`` (canonical bytes, one frontier read, one
   ``executemany`` of nodes and one of entries, the size update), one transaction per
   batch, commit included;
2. at the final size: inclusion proofs as the API serves them (``SqlTreeStore`` size read
   + one batched node read for leaf, path and root), their verification and size;
3. the full audit (``loupe ledger verify``) over every entry and node;
4. ``submit_label`` p50 in a project without a rate card and in one with, interleaved,
   each in its own committed transaction: the difference is what the ledger adds.

Wall-clock time is the target. Each figure also shows this thread's CPU time
(``time.thread_time``), which on a shared machine says how much of the wall clock was
spent waiting; it leaves out PostgreSQL's server process entirely, so it is no substitute.

The baseline, in the same run: a plain reference RFC 6962 tree (:class:`ReferenceTree`,
the RFC's ``MTH``/``PATH`` recursions over per-level hash lists, nothing shared with
``loupe.ledger.merkle``) fed the same leaves. It gives an in-memory append rate, proof
time, and the time to replay every stored leaf into it (the floor for the audit), and
the run checks that roots and proofs are bit-identical to it.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.ledger.merkle import MerkleLog
from loupe.ledger.verify import verify_inclusion
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.payments import earnings, ledger
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.payments.ledger_store import (
    NewEntry,
    SqlTreeStore,
    append_entries,
    iter_entry_chunks,
    publish_checkpoint,
)
from loupe.services.people import users
from loupe.services.projects import definition
from loupe.services.projects.items import insert_items

SYSTEM = Actor.system()
SCHEMA = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}


def percentiles(samples_s: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples_s)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1e6, p99 * 1e6


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


class Clock:
    """Wall-clock and thread CPU time of a block, accumulated."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.thread_time() - self._cpu)

    def p50s(self) -> str:
        wall, cpu = percentiles(self.wall), percentiles(self.cpu)
        return f"p50 {wall[0]:.1f} / p99 {wall[1]:.1f} µs wall; p50 {cpu[0]:.1f} µs CPU"


class ReferenceTree:
    """A plain RFC 6962 tree in memory: the baseline every figure is compared with.

    ``levels[k][i]`` is the hash of the perfect subtree of ``2**k`` leaves starting at
    leaf ``i * 2**k``; roots and paths follow RFC 9162 section 2.1's recursions literally.
    """

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    def append(self, data: bytes) -> None:
        node = hashlib.sha256(b"\x00" + data).digest()
        levels, level = self.levels, 0
        levels[0].append(node)
        while len(levels[level]) % 2 == 0:
            left, right = levels[level][-2], levels[level][-1]
            node = hashlib.sha256(b"\x01" + left + right).digest()
            level += 1
            if len(levels) == level:
                levels.append([])
            levels[level].append(node)

    def mth(self, begin: int, end: int) -> bytes:
        """MTH(D[begin:end]) for the ranges the RFC's recursions visit."""
        n = end - begin
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self.levels[level][begin >> level]
        k = 1 << ((n - 1).bit_length() - 1)
        return hashlib.sha256(
            b"\x01" + self.mth(begin, begin + k) + self.mth(begin + k, end)
        ).digest()

    def path(self, m: int, begin: int, end: int) -> list[bytes]:
        """PATH(m, D[begin:end]), leaf side first."""
        n = end - begin
        if n <= 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.path(m, begin, begin + k), self.mth(begin + k, end)]
        return [*self.path(m - k, begin + k, end), self.mth(begin, begin + k)]


def bench_appends(
    db: Database, cfg: LedgerConfig, n: int, batch: int, n_users: int, reference: ReferenceTree
) -> None:
    with db.transaction() as session:
        ids = [
            users.create_user(session, SYSTEM, username=f"c{i}", role="annotator").id
            for i in range(n_users)
        ]
    secret = cfg.keys.secret
    pseudonyms = [contributor_pseudonym(str(i), secret=secret) for i in ids]
    stamp = int(datetime.now(UTC).timestamp())
    clock, ref_clock = Clock(), Clock()
    for first in range(0, n, batch):
        entries = []
        for i in range(first, min(first + batch, n)):
            user = i % n_users
            entries.append(
                NewEntry(
                    entry=PaymentEntry(
                        kind="earning",
                        contributor=pseudonyms[user],
                        item=item_digest(str(i), secret=secret),
                        amount_minor=5 + i % 7,
                        currency="EUR",
                        rule="label.accepted",
                        rate_card_version="p1.v1",
                        timestamp=stamp,
                    ),
                    user_id=ids[user],
                )
            )
        with clock, db.transaction() as session:
            append_entries(session, entries, keys=None, checkpoint_every=10**12)
        leaves = [item.entry.encode() for item in entries]
        with ref_clock:
            for leaf in leaves:
                reference.append(leaf)
        done = first + len(entries)
        if done % max(n // 10, batch) == 0 or done == n:
            wall, cpu = sum(clock.wall), sum(clock.cpu)
            print(
                f"  {done:>9,} entries: {done / wall:,.0f} appends/s wall, "
                f"{done / cpu:,.0f} /s CPU (cumulative)"
            )
    wall, cpu = sum(clock.wall), sum(clock.cpu)
    print(
        f"batched appends (batch {batch:,}): {n / wall:,.0f} /s wall ({n / cpu:,.0f} /s per "
        f"client CPU-second), over {n:,} entries"
    )
    print(
        f"reference tree, the same leaves in memory: {n / sum(ref_clock.wall):,.0f} appends/s wall"
    )


def bench_proofs(
    db: Database,
    cfg: LedgerConfig,
    samples: int,
    rng: random.Random,
    reference: ReferenceTree,
) -> None:
    with db.transaction() as session:
        record = publish_checkpoint(session, cfg.keys)
    size = record.size
    reference_root = reference.mth(0, size)
    assert record.root_hash == reference_root, "root differs from the reference tree's"
    indices = [rng.randrange(size) for _ in range(samples)]
    gen, ver, ref = Clock(), Clock(), Clock()
    lengths: list[int] = []
    with db.transaction(readonly=True) as session:
        for index in indices:
            with gen:
                # As the API does: a fresh store reads the size, then one batched node read.
                proof = MerkleLog(SqlTreeStore(session)).prove_inclusion(index, size)
            lengths.append(len(proof.path))
            with ver:
                verify_inclusion(
                    proof.leaf_hash, proof.index, proof.tree_size, proof.path, record.root_hash
                )
            with ref:
                expected = reference.path(index, 0, size)
            assert list(proof.path) == expected, f"proof {index} differs from the reference"
    print(f"root and all {samples:,} proofs bit-identical to the reference tree's")
    print(f"inclusion proof from the DB (size read + 1 node query): {gen.p50s()}")
    print(f"reference tree's proof, in memory: {ref.p50s()}")
    print(f"inclusion verification: {ver.p50s()}")
    print(f"proof size: max {max(lengths)} hashes, mean {statistics.fmean(lengths):.2f}")


def bench_audit(db: Database, cfg: LedgerConfig, reference: ReferenceTree) -> None:
    began = time.perf_counter()
    replay = ReferenceTree()
    with db.transaction(readonly=True) as session:
        for rows in iter_entry_chunks(session, 10_000):
            for _, leaf, _ in rows:
                replay.append(leaf)
    size = len(replay.levels[0])
    assert replay.mth(0, size) == reference.mth(0, size)
    print(
        f"reference replay (read every leaf from the DB, rebuild the reference tree): "
        f"{time.perf_counter() - began:.1f} s"
    )
    began = time.perf_counter()
    with db.transaction(readonly=True) as session:
        report = ledger.audit_ledger(
            session, SYSTEM, verifier_keys=cfg.keys.verifier_keys, secret=cfg.keys.secret
        )
    elapsed = time.perf_counter() - began
    print(
        f"full audit (`loupe ledger verify`): {report.entries:,} entries, {report.nodes:,} nodes, "
        f"{report.checkpoints} checkpoint(s) in {elapsed:.1f} s"
    )


def bench_submit(db: Database, cfg: LedgerConfig, n: int) -> None:
    with db.transaction() as session:
        ann = users.create_user(session, SYSTEM, username="bench-ann", role="annotator")
        actor = Actor(ann.id, ann.username, ann.role)
        pids = []
        for name in ("free", "paid"):
            project = definition.create_project(
                session, SYSTEM, name=f"bench-{name}", config=SCHEMA, overlap=1
            )
            definition.add_member(session, SYSTEM, project.id, user_id=ann.id, role="annotator")
            records = [
                parse_item({"id": f"{name}{i}", "text": "x"}, where="bench", text_field="text")
                for i in range(n)
            ]
            insert_items(session, SYSTEM, project.id, records)
            pids.append(project.id)
        earnings.create_rate_card(
            session, SYSTEM, pids[1], {"currency": "EUR", "rates": [{"amount_minor": 5}]}
        )
    with db.transaction(readonly=True) as session:
        from sqlalchemy import text

        items = {
            pid: [
                row[0]
                for row in session.execute(
                    text("SELECT id FROM items WHERE project_id = :p ORDER BY id"), {"p": pid}
                )
            ]
            for pid in pids
        }
    clocks = {pid: Clock() for pid in pids}
    for i in range(n):
        for pid in pids:
            with db.transaction() as session:  # the lease a label needs, outside the clock
                task = next_task(session, actor, pid, lease_seconds=600)
                assert task is not None and task.item_id == items[pid][i]
            with clocks[pid], db.transaction() as session:
                submit_label(session, actor, pid, items[pid][i], "a", ledger=cfg)
    free, paid = (clocks[pid] for pid in pids)
    print(f"submit_label + commit, no rate card: {free.p50s()}")
    print(f"submit_label + commit, earning:      {paid.p50s()}")
    added_wall = percentiles(paid.wall)[0] - percentiles(free.wall)[0]
    added_cpu = percentiles(paid.cpu)[0] - percentiles(free.cpu)[0]
    print(f"added by the ledger per submit (p50): {added_wall:.0f} µs wall, {added_cpu:.0f} µs CPU")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--submits", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-audit", action="store_true", help="skip the full audit")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; the run uses a scratch database `ledger_bench` on it "
        "(dropped at the end). Default: a temporary SQLite file",
    )
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"entries={args.entries:,} batch={args.batch:,} samples={args.samples:,}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "loupe.db"
        url = f"sqlite:///{path}"
        if args.database_url:
            url = scratch_postgres(args.database_url)
        print(f"database: {url.split('@')[-1]}")
        db = Database(url)
        db.migrate()
        cfg = LedgerConfig(keys=init_keys(Path(tmp) / "keys", origin="bench.loupe/payments"))
        reference = ReferenceTree()
        bench_appends(db, cfg, args.entries, args.batch, args.users, reference)
        bench_proofs(db, cfg, args.samples, random.Random(args.seed), reference)
        if not args.no_audit:
            bench_audit(db, cfg, reference)
        bench_submit(db, cfg, args.submits)
        if args.database_url:
            with db.transaction(readonly=True) as session:
                from sqlalchemy import text

                size = session.scalar(text("SELECT pg_database_size(current_database())"))
            db.dispose()
            drop_scratch(args.database_url)
            print(f"database size: {int(size or 0) / 2**20:,.0f} MiB")
        else:
            db.dispose()
            print(f"database file: {path.stat().st_size / 2**20:,.0f} MiB")


SCRATCH = "ledger_bench"


def _server(url: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _admin(url: str) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(_server(url), isolation_level="AUTOCOMMIT")


def scratch_postgres(url: str) -> str:
    """Create the scratch database on ``url``'s server (dropping a leftover); its URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH}"))
        connection.execute(text(f"CREATE DATABASE {SCRATCH}"))
    admin.dispose()
    return make_url(_server(url)).set(database=SCRATCH).render_as_string(hide_password=False)


def drop_scratch(url: str) -> None:
    from sqlalchemy import text

    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH}"))
    admin.dispose()


if __name__ == "__main__":
    main()
