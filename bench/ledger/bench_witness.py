"""Benchmark cosigning: one checkpoint signed, sent to 1 or 3 witnesses, cosignatures checked.

Run: ``.venv/bin/python bench/ledger/bench_witness.py`` (2-3 minutes on the loaded 2-core
container). ``--entries 10000 --rounds 10`` for a quick look. Results go to
docs/benchmarks-ledger.md.

Set-up: a fresh migrated SQLite file with ``--entries`` earnings (default 100,000), and
1 or 3 witnesses (:class:`loupe.ledger.witness.Witness` behind :mod:`loupe.web.witness`,
each its own ``ThreadingHTTPServer`` thread in this process, on loopback, so the
figures have no network latency in them: add one round trip per witness, because
witnesses are asked one after another). Each round appends ``--grow`` entries (not
timed), then times, in this order:

1. **baseline**: ``publish_checkpoint`` + commit (the tree head signed and stored, what
   a label that crosses ``ledger_checkpoint_every`` already pays);
2. ``cosign_latest`` (what the background loop runs): pending work read, a consistency
   proof from each witness's last size, the POST, the witness's checks and cosignature,
   each answer's cosignature checked, the lines stored;
3. ``verify_cosigned_checkpoint`` with the quorum (all witnesses): what a contributor's
   ``loupe ledger check-proof --witnesses`` does with the note.

Figures are wall-clock p50 / p99 over ``--rounds`` rounds, and this thread's CPU time
(``time.thread_time``) for step 2 (the witnesses' own threads are not in it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from loupe.db.database import Database
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.ledger.verify import verify_cosigned_checkpoint
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.payments.ledger_keys import LedgerKeys, init_keys
from loupe.services.payments.ledger_store import NewEntry, append_entries, publish_checkpoint
from loupe.services.payments.witnesses import WitnessEndpoint, cosign_latest, load_witnesses
from loupe.services.people import users
from loupe.web.witness import witness_server

ORIGIN = "bench.loupe/payments"


def _grow(db: Database, keys: LedgerKeys, user_id: int, start: int, n: int) -> None:
    pseudonym = contributor_pseudonym(str(user_id), secret=keys.secret)
    stamp = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    entries = [
        NewEntry(
            entry=PaymentEntry(
                kind="earning",
                contributor=pseudonym,
                item=item_digest(str(i), secret=keys.secret),
                amount_minor=5,
                currency="EUR",
                rule="label.accepted",
                rate_card_version="p1.v1",
                timestamp=stamp,
            ),
            user_id=user_id,
        )
        for i in range(start, start + n)
    ]
    with db.transaction() as session:
        append_entries(session, entries, keys=None, checkpoint_every=10**12)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f} / {_pct(values, 0.99) * 1e3:.2f} ms"


def run(n_witnesses: int, *, entries: int, rounds: int, grow: int, workdir: Path) -> None:
    keys = init_keys(workdir / "keys", origin=ORIGIN)
    db = Database(f"sqlite:///{workdir / 'loupe.db'}")
    db.migrate()
    with db.transaction() as session:
        user = users.create_user(session, Actor.system(), username="maya", role="annotator")
    for start in range(0, entries, 10_000):
        _grow(db, keys, user.id, start, min(10_000, entries - start))
    servers = []
    lines = []
    for n in range(n_witnesses):
        witness = Witness.init(
            workdir / f"w{n}", name=f"w{n}.bench", log_keys=[keys.signer.verifier_key]
        )
        server = witness_server(witness, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        lines.append(f"{witness.verifier_key} http://127.0.0.1:{server.server_address[1]}\n")
    conf = workdir / "witnesses.conf"
    conf.write_text("".join(lines))
    endpoints: list[WitnessEndpoint] = load_witnesses(conf)
    witness_keys = [line.split()[0] for line in lines]

    sign: list[float] = []
    cosign: list[float] = []
    cosign_cpu: list[float] = []
    check: list[float] = []
    size = entries
    try:
        for round_ in range(rounds + 1):  # round 0 warms up (first cosignature, from 0)
            _grow(db, keys, user.id, size, grow)
            size += grow
            t0 = time.perf_counter()
            with db.transaction() as session:
                publish_checkpoint(session, keys)
            t1 = time.perf_counter()
            c0 = time.thread_time()
            done = cosign_latest(db, endpoints)
            c1 = time.thread_time()
            t2 = time.perf_counter()
            assert done.checkpoint is not None and all(o.cosigned for o in done.outcomes)
            if round_ > 0:
                assert all(o.old_size == size - grow for o in done.outcomes)
            note = done.checkpoint.note
            t3 = time.perf_counter()
            verify_cosigned_checkpoint(
                note, [keys.signer.verifier_key], witness_keys, quorum=n_witnesses
            )
            t4 = time.perf_counter()
            if round_ == 0:
                continue
            sign.append(t1 - t0)
            cosign.append(t2 - t1)
            cosign_cpu.append(c1 - c0)
            check.append(t4 - t3)
    finally:
        for server, thread in servers:
            server.shutdown()
            thread.join()
            server.server_close()
        db.dispose()
    print(f"\n{n_witnesses} witness(es), log of {entries:,} + {rounds} x {grow} entries:")
    print(f"  baseline: sign + store a checkpoint, p50 / p99      {_ms(sign)}")
    print(f"  cosign_latest (send, witness checks, verify, store) {_ms(cosign)}")
    print(
        f"    of which this thread's CPU, p50                   {statistics.median(cosign_cpu) * 1e3:.2f} ms"
    )
    print(f"  verify the note with quorum {n_witnesses}, p50 / p99            {_ms(check)}")
    total = statistics.median(sign) + statistics.median(cosign) + statistics.median(check)
    print(f"  sign -> cosigned -> verified, sum of p50s            {total * 1e3:.2f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--grow", type=int, default=10, help="entries added between rounds")
    args = parser.parse_args(argv)
    load: Callable[[], tuple[float, float, float]] = os.getloadavg
    print(
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load()[0]:.1f} at start"
    )
    for n in (1, 3):
        with tempfile.TemporaryDirectory() as tmp:
            run(n, entries=args.entries, rounds=args.rounds, grow=args.grow, workdir=Path(tmp))
    print(f"load average {load()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
