"""Benchmark anchoring checkpoints on the in-process test chain: gas and time per anchor.

Run: ``.venv/bin/python bench/ledger/bench_anchor.py`` (about a minute; ``--checkpoints
N`` to change how many). Needs the ``loupe[anchor]`` extra and pyrevm (the test chain,
:mod:`loupe.testing.revm_chain`). Results go to docs/benchmarks-ledger.md.

On a fresh migrated SQLite database, ``--checkpoints`` times over:

1. the log grows by ``--entries-per-checkpoint`` earnings (not timed);
2. **baseline**: ``publish_checkpoint`` in its own committed transaction: compute the
   root, sign the note (Ed25519), store it. This is what every checkpoint costs today;
3. **anchor**: ``anchor_due`` (every=1): read the due checkpoint, ask the node for the
   nonce, latest block and tip, sign an EIP-1559 transaction (secp256k1), commit a
   pending ``ledger_anchors`` row, broadcast it, the chain executes it in revm and mines
   a block, read the receipt, record block and gas in a second transaction; signing a
   transaction alone (``Chain.sign``: three look-ups and the secp256k1 signature) is timed
   beside it;
4. **verify**: ``verify_anchors`` over every anchor so far is timed once at the end
   (per anchor: transaction + receipt look-ups, note signature, root at that size).

Gas comes from revm's receipt: on a real chain it is the same number (an anchor is a
plain call; its gas does not depend on the chain). What a transaction *costs* is
``gas * (base fee + tip)`` at the time, which the test chain does not model (its base
fee is a constant 1 gwei). Wall time on the test chain has no network round trips and no
block time: on a real node, add ~4 RPC round trips and the wait for a block (~12 s on
Ethereum), which dominate.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from eth_account import Account

from loupe.db.database import Database
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.services.access import Actor
from loupe.services.payments import anchors
from loupe.services.payments.ledger_keys import init_keys
from loupe.services.payments.ledger_store import NewEntry, append_entries, publish_checkpoint
from loupe.services.people import users
from loupe.testing.revm_chain import RevmChain, RevmProvider

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def ms(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
    return f"p50 {statistics.median(values) * 1e3:7.2f} ms, p95 {cuts[18] * 1e3:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", type=int, default=200)
    parser.add_argument("--entries-per-checkpoint", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run(Path(scratch), args.checkpoints, args.entries_per_checkpoint)


def run(scratch: Path, n_checkpoints: int, per: int) -> None:
    db = Database(f"sqlite:///{scratch / 'bench.db'}")
    db.migrate()
    keys = init_keys(scratch / "keys", origin="bench.example/payments")
    with db.transaction() as session:
        user = users.create_user(session, Actor.system(), username="c1", role="annotator")
    pseudonym = contributor_pseudonym(str(user.id), secret=keys.secret)
    account = Account.create()
    chain = RevmChain(chain_id=1337, balances={account.address: 10**21})
    config = anchors.AnchorSettings(
        rpc_url="revm://bench", chain_id=1337, key_file=None, every=1, confirmations=1
    )
    connected = anchors.connect(config, provider=RevmProvider(chain))
    stamp = int(datetime.now(UTC).timestamp())

    signing: list[float] = []
    anchoring: list[float] = []
    tx_signing: list[float] = []
    gas: list[int] = []
    balance = chain.balance(account.address)
    fees: list[int] = []
    for c in range(n_checkpoints):
        entries = [
            NewEntry(
                entry=PaymentEntry(
                    kind="earning",
                    contributor=pseudonym,
                    item=item_digest(str(c * per + i), secret=keys.secret),
                    amount_minor=5,
                    currency="EUR",
                    rule="label.accepted",
                    rate_card_version="p1.v1",
                    timestamp=stamp,
                ),
                user_id=user.id,
            )
            for i in range(per)
        ]
        with db.transaction() as session:
            append_entries(session, entries, keys=None, checkpoint_every=10**12)

        def sign() -> None:
            with db.transaction() as session:
                publish_checkpoint(session, keys)

        signing.append(timed(sign)[1])
        # The share of the anchor spent signing the Ethereum transaction (look-ups included).
        tx_signing.append(timed(lambda: connected.sign(account, b"\x01" * 32))[1])
        outcome, seconds = timed(
            lambda: anchors.anchor_due(db, connected, account, every=1, timeout=5)
        )
        assert outcome.anchored is not None and outcome.anchored.gas_used is not None
        anchoring.append(seconds)
        gas.append(outcome.anchored.gas_used)
        now = chain.balance(account.address)
        fees.append(balance - now)
        balance = now

    def verify() -> list[str]:
        with db.transaction(readonly=True) as session:
            report = anchors.verify_anchors(
                session,
                connected,
                verifier_keys=list(keys.verifier_keys),
                sender=account.address,
                confirmations=1,
            )
        return report.problems

    problems, verify_seconds = timed(verify)
    assert problems == [], problems
    db.dispose()

    print(f"# {platform.platform()}, Python {platform.python_version()}, SQLite, revm test chain")
    print(f"{n_checkpoints} checkpoints, {per} entries between checkpoints")
    print(f"baseline  publish_checkpoint (sign + store):   {ms(signing)}")
    print(f"anchor    anchor_due (sign tx, send, mine):   {ms(anchoring)}")
    print(f"  of which: sign the transaction (3 look-ups): {ms(tx_signing)}")
    print(
        f"          ratio anchor / checkpoint (p50):     "
        f"{statistics.median(anchoring) / statistics.median(signing):.1f}x"
    )
    print(
        f"gas per anchor: min {min(gas)}, max {max(gas)}, mean {statistics.fmean(gas):.1f} "
        f"(21,000 + 16 per non-zero / 4 per zero byte of the 32-byte hash)"
    )
    print(
        f"fee per anchor at the test chain's 1 gwei base fee + 1 gwei tip: "
        f"mean {statistics.fmean(fees) / 1e9:.0f} gwei"
    )
    print(
        f"verify_anchors over {n_checkpoints} anchors: {verify_seconds * 1e3:.1f} ms "
        f"({verify_seconds / n_checkpoints * 1e3:.2f} ms per anchor)"
    )


if __name__ == "__main__":
    main()
