"""Anchoring checkpoints on the in-process revm test chain (never a network).

Needs the ``loupe[anchor]`` extra (web3) and pyrevm (the test chain); skipped without.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("web3", reason="anchoring needs the loupe[anchor] extra (web3)")
pytest.importorskip("pyrevm", reason="the in-process test chain needs pyrevm")

from eth_account import Account
from hexbytes import HexBytes
from sqlalchemy import text
from tests.factories import add_items, hold_in, make_project, make_rate_card, make_user
from web3 import Web3

from loupe.db.database import Database
from loupe.errors import Conflict, InvalidInput, Unavailable
from loupe.ledger.anchor import signed_text
from loupe.ledger.checkpoint import make_checkpoint, sign_checkpoint
from loupe.services.labelling.labels import submit_label
from loupe.services.payments import anchors
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys, load_keys
from loupe.services.payments.ledger_store import publish_checkpoint
from loupe.testing.revm_chain import RevmChain, RevmProvider, TransactionRejected

CHAIN_ID = 1337


@pytest.fixture
def account() -> Any:
    return Account.create()


@pytest.fixture
def chain(account: Any) -> RevmChain:
    return RevmChain(chain_id=CHAIN_ID, balances={account.address: 10**18})


def _connect(chain: RevmChain, chain_id: int = CHAIN_ID) -> anchors.Chain:
    config = anchors.AnchorSettings(
        rpc_url="revm://test", chain_id=chain_id, key_file=None, every=1, confirmations=1
    )
    return anchors.connect(config, provider=RevmProvider(chain))


@pytest.fixture
def ledger(db: Database, tmp_path: Path) -> LedgerConfig:
    """Two earnings in the log and a checkpoint over them."""
    init_keys(tmp_path / "keys", origin="test.example/payments")
    cfg = LedgerConfig(keys=load_keys(tmp_path / "keys"))
    ann = make_user(db, "ann")
    project = make_project(db, overlap=1, members={ann: "annotator"})
    add_items(db, project, 2)
    make_rate_card(db, project)
    for item in (1, 2):
        with db.transaction() as session:
            hold_in(session, ann.id, project, item)
            submit_label(session, ann.actor, project, item, "call", ledger=cfg)
    with db.transaction() as session:
        publish_checkpoint(session, cfg.keys)
    return cfg


def _verify(
    db: Database, chain: anchors.Chain, cfg: LedgerConfig, sender: str, n: int = 1
) -> list[str]:
    with db.transaction(readonly=True) as session:
        report = anchors.verify_anchors(
            session,
            chain,
            verifier_keys=list(cfg.keys.verifier_keys),
            sender=sender,
            confirmations=n,
        )
    return report.problems


def test_anchor_then_verify(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    connected = _connect(chain)
    outcome = anchors.anchor_due(db, connected, account, every=1, timeout=5)
    assert outcome.anchored is not None and outcome.pending == []
    assert outcome.anchored.block_number == chain.head == 1
    assert outcome.anchored.gas_used == 21_000 + 16 * 32 - 12 * outcome.anchored.payload.count(0)
    assert _verify(db, connected, ledger, account.address) == []
    # Deep enough only once more blocks are on top of it.
    assert (
        "has 1 confirmation(s), 3 required" in _verify(db, connected, ledger, account.address, 3)[0]
    )
    chain.mine(2)
    assert _verify(db, connected, ledger, account.address, 3) == []
    # Nothing new to anchor: a second run sends nothing.
    again = anchors.anchor_due(db, connected, account, every=1, timeout=5)
    assert again.anchored is None and chain.nonce(account.address) == 1


def test_the_chain_holds_only_the_checkpoint_hash(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    outcome = anchors.anchor_due(db, _connect(chain), account, every=1, timeout=5)
    assert outcome.anchored is not None
    tx = Web3(RevmProvider(chain)).eth.get_transaction(HexBytes(outcome.anchored.tx_hash))
    with db.transaction(readonly=True) as session:
        note = session.execute(text("SELECT note FROM ledger_checkpoints")).scalar_one()
        leaves = [
            bytes(leaf)
            for leaf in session.execute(text("SELECT leaf FROM ledger_entries")).scalars()
        ]
    assert bytes(tx["input"]) == hashlib.sha256(signed_text(note).encode()).digest()
    assert len(tx["input"]) == 32 and tx["value"] == 0 and tx["to"] == account.address
    # Nothing of the entries (pseudonyms, item digests, amounts) is in the transaction.
    raw = outcome.anchored.raw_tx
    fields = [json.loads(leaf) for leaf in leaves]
    assert fields and all(
        str(value).encode() not in raw
        for entry in fields
        for value in entry.values()
        if isinstance(value, str) and len(value) >= 8
    )


def test_a_changed_checkpoint_fails_naming_it(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    connected = _connect(chain)
    anchors.anchor_due(db, connected, account, every=1, timeout=5)
    # Whoever holds the signing key re-signs checkpoint 1 over another root: its note and
    # columns agree and its signature verifies, but the chain holds the old hash.
    other = sign_checkpoint(
        make_checkpoint(ledger.keys.origin, 2, b"\x09" * 32), [ledger.keys.signer]
    )
    with db.transaction() as session:
        session.execute(
            text("UPDATE ledger_checkpoints SET note = :n, root_hash = :r WHERE id = 1"),
            {"n": other, "r": b"\x09" * 32},
        )
    problems = _verify(db, connected, ledger, account.address)
    assert problems and all(p.startswith("checkpoint 1 (size 2): ") for p in problems)
    assert any("changed after it was anchored" in p for p in problems)


def test_a_changed_log_fails_naming_the_checkpoint(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    connected = _connect(chain)
    anchors.anchor_due(db, connected, account, every=1, timeout=5)
    with db.transaction() as session:
        session.execute(
            text("UPDATE ledger_nodes SET hash = :h WHERE level = 1"), {"h": b"\1" * 32}
        )
    problems = _verify(db, connected, ledger, account.address)
    assert problems == [
        "checkpoint 1 (size 2): its anchored root differs from the log's root at size 2"
    ]


def test_unmined_then_mined(db: Database, ledger: LedgerConfig, account: Any) -> None:
    chain = RevmChain(chain_id=CHAIN_ID, balances={account.address: 10**18}, automine=False)
    connected = _connect(chain)
    outcome = anchors.anchor_due(db, connected, account, every=1, timeout=0)
    assert outcome.anchored is None and len(outcome.pending) == 1
    assert "is not mined yet" in _verify(db, connected, ledger, account.address)[0]
    chain.mine()
    settled = anchors.anchor_due(db, connected, account, every=1, timeout=0)
    assert [a.block_number for a in settled.confirmed] == [1] and settled.anchored is None
    assert _verify(db, connected, ledger, account.address) == []


def test_a_lost_pending_transaction_is_sent_again(
    db: Database, ledger: LedgerConfig, account: Any
) -> None:
    """Recorded, then the process died before the node got it: the next run resends it."""
    chain = RevmChain(chain_id=CHAIN_ID, balances={account.address: 10**18})
    connected = _connect(chain)
    signed = connected.sign(account, b"\x05" * 32)
    with db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO ledger_anchors (checkpoint_id, chain_id, sender, payload, tx_hash, "
                "raw_tx, created_at) VALUES (1, :c, :s, :p, :h, :r, CURRENT_TIMESTAMP)"
            ),
            {
                "c": CHAIN_ID,
                "s": account.address,
                "p": signed.payload,
                "h": signed.tx_hash,
                "r": signed.raw,
            },
        )
    outcome = anchors.anchor_due(db, connected, account, every=1, timeout=5)
    assert [a.tx_hash for a in outcome.confirmed] == [signed.tx_hash]
    # ...and it carries the wrong payload for checkpoint 1, which verify says.
    problems = _verify(db, connected, ledger, account.address)
    assert any("changed after it was anchored" in p for p in problems)


def test_a_reverted_transaction_is_refused(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    reverter = "0x" + "ee" * 20
    chain.set_code(reverter, bytes.fromhex("5f5ffd"))  # PUSH0 PUSH0 REVERT
    w3 = Web3(RevmProvider(chain))
    signed = account.sign_transaction(
        {
            "type": 2, "chainId": CHAIN_ID, "nonce": 0, "to": Web3.to_checksum_address(reverter),
            "value": 0, "data": b"\x05" * 32, "gas": 50_000,
            "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9,
        }
    )  # fmt: skip
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 0
    with db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO ledger_anchors (checkpoint_id, chain_id, sender, payload, tx_hash, "
                "raw_tx, block_number, created_at) VALUES (1, :c, :s, :p, :h, :r, 1, "
                "CURRENT_TIMESTAMP)"
            ),
            {"c": CHAIN_ID, "s": account.address, "p": b"\x05" * 32, "h": bytes(tx_hash), "r": b""},
        )
    problems = _verify(db, _connect(chain), ledger, account.address)
    assert any("failed (status 0)" in p for p in problems)
    assert all(p.startswith("checkpoint 1 (size 2): ") for p in problems)


def test_another_chain_is_refused(chain: RevmChain, account: Any) -> None:
    with pytest.raises(Conflict, match="is chain 1337, but LOUPE_ANCHOR_CHAIN_ID is 1"):
        _connect(chain, chain_id=1)
    # A transaction signed for another chain never gets in (EIP-155 replay protection).
    other = anchors.Chain(Web3(RevmProvider(RevmChain(chain_id=1))), chain_id=1, where="x")
    signed = other.sign(account, b"\x05" * 32)
    with pytest.raises(TransactionRejected, match="invalid chain id 1"):
        chain.send_raw_transaction(signed.raw)


def test_every_n_checkpoints(
    db: Database, ledger: LedgerConfig, chain: RevmChain, account: Any
) -> None:
    connected = _connect(chain)
    assert anchors.anchor_due(db, connected, account, every=2, timeout=5).anchored is not None
    with db.transaction() as session:
        publish_checkpoint(session, ledger.keys)
    assert anchors.anchor_due(db, connected, account, every=2, timeout=5).anchored is None
    with db.transaction() as session:
        publish_checkpoint(session, ledger.keys)
    done = anchors.anchor_due(db, connected, account, every=2, timeout=5).anchored
    assert done is not None and done.checkpoint_id == 3
    assert _verify(db, connected, ledger, account.address) == []


def test_no_anchor_is_a_problem(db: Database, ledger: LedgerConfig, chain: RevmChain) -> None:
    assert (
        "no checkpoint is anchored on chain 1337"
        in _verify(db, _connect(chain), ledger, "0x" + "ab" * 20)[0]
    )


def test_key_file_checks(tmp_path: Path, account: Any) -> None:
    path = tmp_path / "anchor-key"
    path.write_text(account.key.hex() + "\n")
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match="chmod 600"):
        anchors.load_account(path)
    path.chmod(0o600)
    assert anchors.load_account(path).address == account.address
    path.write_text("not a key")
    with pytest.raises(InvalidInput, match="not a hex private key"):
        anchors.load_account(path)


def test_unreachable_node_is_unavailable() -> None:
    config = anchors.AnchorSettings(
        rpc_url="http://127.0.0.1:9", chain_id=1, key_file=None, every=1, confirmations=1
    )
    with pytest.raises(Unavailable, match=r"cannot reach the chain node at http://127\.0\.0\.1:9"):
        anchors.connect(config)


def test_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "web3", None)
    config = anchors.AnchorSettings(
        rpc_url="http://127.0.0.1:9", chain_id=1, key_file=None, every=1, confirmations=1
    )
    with pytest.raises(Unavailable, match=r"pip install 'loupe\[anchor\]'"):
        anchors.connect(config)


class TestChain:
    """The test chain refuses what a node refuses and charges what it should."""

    def _tx(self, account: Any, **changes: Any) -> bytes:
        tx = {
            "type": 2, "chainId": CHAIN_ID, "nonce": 0, "to": account.address, "value": 0,
            "data": b"\x01" * 32, "gas": 21_512, "maxFeePerGas": 3 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }  # fmt: skip
        tx.update(changes)
        return bytes(account.sign_transaction(tx).raw_transaction)

    def test_fee_and_nonce(self, chain: RevmChain, account: Any) -> None:
        before = chain.balance(account.address)
        chain.send_raw_transaction(self._tx(account))
        # effective price = min(max fee, base fee 1 gwei + tip 1 gwei)
        assert before - chain.balance(account.address) == 21_512 * 2 * 10**9
        assert chain.nonce(account.address) == 1 and chain.head == 1

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"nonce": 1}, "nonce 1 is not the next one"),
            ({"gas": 21_511}, "intrinsic gas too low"),
            ({"maxFeePerGas": 10**8, "maxPriorityFeePerGas": 10**8}, "below base fee"),
            ({"value": 10**18}, "insufficient funds"),
            ({"chainId": 5}, "invalid chain id 5"),
        ],
    )
    def test_refusals(
        self, chain: RevmChain, account: Any, changes: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(TransactionRejected, match=message):
            chain.send_raw_transaction(self._tx(account, **changes))
        assert chain.head == 0


def test_a_refused_transaction_leaves_no_anchor(db: Database, ledger: LedgerConfig) -> None:
    """An unfunded account: the node refuses, the pending row is forgotten, exit 6."""
    broke = Account.create()
    chain = RevmChain(chain_id=CHAIN_ID)
    with pytest.raises(Conflict, match="insufficient funds"):
        anchors.anchor_due(db, _connect(chain), broke, every=1, timeout=5)
    with db.transaction(readonly=True) as session:
        assert anchors.list_anchors(session) == []
    assert chain.head == 0
