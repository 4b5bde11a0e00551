"""Anchoring checkpoints on an Ethereum-compatible chain (the ``loupe[anchor]`` extra).

``loupe ledger anchor`` runs :func:`anchor_due`: when ``anchor_every`` checkpoints were
published since the last anchored one, it sends one transaction from the operator's
account to itself carrying the latest checkpoint's 32-byte hash
(:func:`loupe.ledger.anchor.anchor_payload`), records it in ``ledger_anchors``, waits for
it to be mined and records its block. ``loupe ledger verify --anchored`` runs
:func:`verify_anchors`: every recorded transaction must be on the chain, mined with
enough confirmations, successful, sent by the anchoring account to itself, and carry the
hash of the stored checkpoint, whose signature and root must still match the log.

Network calls never run inside a database transaction: :func:`anchor_due` owns its
transactions (a pending row is committed *before* the transaction is broadcast, so a
crash leaves a row that the next run sends again, never an unrecorded anchor).

web3.py is imported only when a chain is used; without the extra, :func:`connect`
raises :class:`~loupe.errors.Unavailable` saying what to install. Example::

    chain = connect(AnchorSettings.from_settings(settings))
    outcome = anchor_due(db, chain, load_account(settings.anchor_key_file), every=1)
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from loupe.db.ledger_models import LedgerAnchor, LedgerCheckpoint
from loupe.db.models import utcnow
from loupe.errors import Conflict, InvalidInput, Unavailable
from loupe.ledger.anchor import (
    AnchorClaim,
    ChainTransaction,
    anchor_gas,
    anchor_payload,
    anchor_problems,
)
from loupe.ledger.merkle import MerkleLog
from loupe.ledger.verify import VerificationError, verify_checkpoint
from loupe.services.payments.ledger_store import CheckpointRecord, SqlTreeStore, ledger_size

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from loupe.db.database import Database
    from loupe.settings import Settings

__all__ = [
    "AnchorOutcome",
    "AnchorRecord",
    "AnchorReport",
    "AnchorSettings",
    "Chain",
    "Mined",
    "SignedAnchor",
    "anchor_due",
    "connect",
    "due_checkpoint",
    "list_anchors",
    "load_account",
    "verify_anchors",
]

_EXTRA = "chain anchoring needs the loupe[anchor] extra: pip install 'loupe[anchor]'"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AnchorSettings:
    """The ``LOUPE_ANCHOR_*`` settings, checked: the node, its chain, the sender's key."""

    rpc_url: str
    chain_id: int
    key_file: Path | None
    every: int
    confirmations: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AnchorSettings:
        for name in ("anchor_rpc_url", "anchor_chain_id"):
            if getattr(settings, name) is None:
                raise InvalidInput(
                    f"set LOUPE_{name.upper()} to anchor checkpoints (see docs/payments.md)",
                    details={"field": name},
                )
        assert settings.anchor_rpc_url is not None and settings.anchor_chain_id is not None
        return cls(
            rpc_url=settings.anchor_rpc_url,
            chain_id=settings.anchor_chain_id,
            key_file=settings.anchor_key_file,
            every=settings.anchor_every,
            confirmations=settings.anchor_confirmations,
        )


@dataclass(frozen=True, slots=True)
class SignedAnchor:
    """An anchor transaction signed but not yet sent."""

    tx_hash: bytes
    raw: bytes
    sender: str
    payload: bytes
    gas: int


@dataclass(frozen=True, slots=True)
class Mined:
    block_number: int
    status: int
    gas_used: int


class Chain:
    """The few JSON-RPC calls anchoring needs, on a connected :class:`web3.Web3`.

    Every call maps a node that cannot be reached to :class:`Unavailable` and a request
    it refuses to :class:`Conflict`.
    """

    def __init__(self, w3: Web3, *, chain_id: int, where: str) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self.where = where

    @contextmanager
    def _rpc(self, what: str) -> Iterator[None]:
        from web3.exceptions import ProviderConnectionError, TransactionNotFound, Web3RPCError

        try:
            yield
        except TransactionNotFound:
            raise  # an answer, not a failure: the callers handle it
        except (OSError, ProviderConnectionError) as exc:
            raise Unavailable(
                f"cannot reach the chain node at {self.where} ({what}): {exc}",
                details={"rpc_url": self.where},
            ) from None
        except Web3RPCError as exc:
            raise Conflict(
                f"the chain node at {self.where} refused {what}: {exc}",
                details={"rpc_url": self.where},
            ) from None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        with self._rpc(what):
            return fn()

    def head(self) -> int:
        return int(self.call("the block number", lambda: self.w3.eth.block_number))

    def sign(self, account: LocalAccount, payload: bytes) -> SignedAnchor:
        """A transaction from ``account`` to itself, value 0, with ``payload`` as calldata."""
        eth = self.w3.eth
        nonce = self.call(
            "the nonce", lambda: eth.get_transaction_count(account.address, "pending")
        )
        latest = self.call("the latest block", lambda: eth.get_block("latest"))
        gas = anchor_gas(payload)
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": account.address,
            "value": 0,
            "data": payload,
            "gas": gas,
        }
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:  # a chain without EIP-1559
            tx["gasPrice"] = self.call("the gas price", lambda: eth.gas_price)
        else:
            tip = self.call("the priority fee", lambda: eth.max_priority_fee)
            tx |= {"type": 2, "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base_fee + tip}
        signed = account.sign_transaction(tx)
        return SignedAnchor(
            tx_hash=bytes(signed.hash),
            raw=bytes(signed.raw_transaction),
            sender=account.address,
            payload=payload,
            gas=gas,
        )

    def broadcast(self, raw: bytes) -> None:
        self.call("the anchor transaction", lambda: self.w3.eth.send_raw_transaction(raw))

    def transaction(self, tx_hash: bytes) -> ChainTransaction | None:
        """What the chain holds for ``tx_hash`` (``None``: unknown to the node)."""
        from hexbytes import HexBytes
        from web3.exceptions import TransactionNotFound

        eth = self.w3.eth
        try:
            tx = self.call("a transaction", lambda: eth.get_transaction(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        status = None
        if tx.get("blockNumber") is not None:
            try:
                receipt = self.call(
                    "a receipt", lambda: eth.get_transaction_receipt(HexBytes(tx_hash))
                )
                status = int(receipt["status"])
            except TransactionNotFound:
                status = None
        chain_id = tx.get("chainId")
        return ChainTransaction(
            tx_hash=bytes(tx["hash"]),
            chain_id=int(chain_id) if chain_id is not None else None,
            sender=str(tx["from"]),
            to=str(tx["to"]) if tx.get("to") else None,
            value=int(tx["value"]),
            data=bytes(tx["input"]),
            block_number=tx.get("blockNumber"),
            status=status,
        )

    def wait(self, tx_hash: bytes, *, timeout: float, poll: float = 1.0) -> Mined | None:
        """The mined transaction's receipt, or ``None`` after ``timeout`` seconds."""
        from hexbytes import HexBytes
        from web3.exceptions import TransactionNotFound

        deadline = time.monotonic() + timeout
        while True:
            try:
                receipt = self.call(
                    "a receipt", lambda: self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
                )
            except TransactionNotFound:
                receipt = None
            if receipt is not None and receipt.get("blockNumber") is not None:
                return Mined(
                    block_number=int(receipt["blockNumber"]),
                    status=int(receipt["status"]),
                    gas_used=int(receipt["gasUsed"]),
                )
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll)


def connect(config: AnchorSettings, *, provider: Any = None) -> Chain:
    """A :class:`Chain` on ``config.rpc_url`` (or ``provider``), refusing another chain id."""
    try:
        from web3 import HTTPProvider, Web3
    except ImportError:
        raise Unavailable(_EXTRA, details={"extra": "anchor"}) from None
    if provider is None:
        provider = HTTPProvider(
            config.rpc_url, request_kwargs={"timeout": 30}, exception_retry_configuration=None
        )
    chain = Chain(Web3(provider), chain_id=config.chain_id, where=config.rpc_url)
    reported = int(chain.call("its chain id", lambda: chain.w3.eth.chain_id))
    if reported != config.chain_id:
        raise Conflict(
            f"the node at {config.rpc_url} is chain {reported}, but LOUPE_ANCHOR_CHAIN_ID is "
            f"{config.chain_id}; anchors are only sent to and checked on that chain",
            details={"chain_id": reported},
        )
    return chain


def load_account(path: Path | None) -> LocalAccount:
    """The anchoring account from its key file (hex private key; mode 0600 or stricter)."""
    if path is None:
        raise InvalidInput(
            "set LOUPE_ANCHOR_KEY_FILE to the file holding the anchoring account's key",
            details={"field": "anchor_key_file"},
        )
    try:
        from eth_account import Account
    except ImportError:
        raise Unavailable(_EXTRA, details={"extra": "anchor"}) from None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"{path}: cannot read the anchor key file ({exc})",
            details={"field": "anchor_key_file"},
        ) from None
    if mode & 0o077:
        raise InvalidInput(
            f"{path} is readable by others (mode {mode:04o}); run `chmod 600 {path}`",
            details={"field": "anchor_key_file"},
        )
    try:
        account: LocalAccount = Account.from_key(text)
    except (ValueError, TypeError):
        raise InvalidInput(
            f"{path}: not a hex private key (64 hex digits, optionally 0x-prefixed)",
            details={"field": "anchor_key_file"},
        ) from None
    return account


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """A row of ``ledger_anchors``: the transaction anchoring one checkpoint."""

    id: int
    checkpoint_id: int
    chain_id: int
    sender: str
    payload: bytes
    tx_hash: bytes
    raw_tx: bytes
    block_number: int | None
    gas_used: int | None
    created_at: datetime


def _record(row: LedgerAnchor) -> AnchorRecord:
    return AnchorRecord(
        id=row.id,
        checkpoint_id=row.checkpoint_id,
        chain_id=row.chain_id,
        sender=row.sender,
        payload=bytes(row.payload),
        tx_hash=bytes(row.tx_hash),
        raw_tx=bytes(row.raw_tx),
        block_number=row.block_number,
        gas_used=row.gas_used,
        created_at=row.created_at,
    )


def list_anchors(session: Session, *, chain_id: int | None = None) -> list[AnchorRecord]:
    """Every recorded anchor (on ``chain_id`` if given), oldest first."""
    query = select(LedgerAnchor).order_by(LedgerAnchor.id)
    if chain_id is not None:
        query = query.where(LedgerAnchor.chain_id == chain_id)
    return [_record(row) for row in session.scalars(query)]


def _checkpoint_record(row: LedgerCheckpoint) -> CheckpointRecord:
    return CheckpointRecord(
        id=row.id,
        size=row.size,
        root_hash=bytes(row.root_hash),
        note=row.note,
        key_name=row.key_name,
        key_hash=row.key_hash,
        created_at=row.created_at,
    )


def due_checkpoint(session: Session, *, chain_id: int, every: int) -> CheckpointRecord | None:
    """The checkpoint to anchor now: the latest, once ``every`` checkpoints were published
    since the last one anchored on ``chain_id`` (any published, before the first anchor)."""
    latest = session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()))
    if latest is None:
        return None
    last = session.scalar(
        select(func.max(LedgerAnchor.checkpoint_id)).where(LedgerAnchor.chain_id == chain_id)
    )
    if last is not None:
        since = session.scalar(
            select(func.count()).select_from(LedgerCheckpoint).where(LedgerCheckpoint.id > last)
        )
        if not since or since < every:
            return None
    return _checkpoint_record(latest)


@dataclass(frozen=True, slots=True)
class AnchorOutcome:
    """What one ``loupe ledger anchor`` run did."""

    anchored: AnchorRecord | None  # the new anchor, mined (None: nothing was due)
    confirmed: list[AnchorRecord]  # earlier pending anchors now mined
    pending: list[AnchorRecord]  # sent but not mined within the timeout


def _mark_mined(db: Database, anchor_id: int, mined: Mined) -> AnchorRecord:
    with db.transaction() as session:
        session.execute(
            update(LedgerAnchor)
            .where(LedgerAnchor.id == anchor_id)
            .values(block_number=mined.block_number, gas_used=mined.gas_used)
        )
        row = session.get(LedgerAnchor, anchor_id)
        assert row is not None
        return _record(row)


def _forget(db: Database, anchor_id: int) -> None:
    with db.transaction() as session:
        session.execute(delete(LedgerAnchor).where(LedgerAnchor.id == anchor_id))


def _send(db: Database, chain: Chain, anchor: AnchorRecord) -> None:
    """Broadcast a recorded anchor; one the node refuses (funds, nonce) is forgotten."""
    try:
        chain.broadcast(anchor.raw_tx)
    except Conflict:
        _forget(db, anchor.id)
        raise


def _settle(db: Database, chain: Chain, anchor: AnchorRecord, timeout: float) -> Mined | None:
    """Wait for ``anchor``'s transaction; record its block, or forget it if it failed."""
    mined = chain.wait(anchor.tx_hash, timeout=timeout)
    if mined is None:
        return None
    if mined.status != 1:
        _forget(db, anchor.id)
        raise Conflict(
            f"anchor transaction 0x{anchor.tx_hash.hex()} for checkpoint "
            f"{anchor.checkpoint_id} failed on chain {anchor.chain_id}; run "
            "`loupe ledger anchor` again",
            details={"checkpoint": anchor.checkpoint_id},
        )
    return mined


def anchor_due(
    db: Database,
    chain: Chain,
    account: LocalAccount,
    *,
    every: int,
    timeout: float = 120.0,
) -> AnchorOutcome:
    """Settle pending anchors, then anchor the due checkpoint (if any) and wait for it.

    Owns its database transactions (see the module docstring).
    """
    confirmed: list[AnchorRecord] = []
    pending: list[AnchorRecord] = []
    with db.transaction(readonly=True) as session:
        waiting = [
            a for a in list_anchors(session, chain_id=chain.chain_id) if a.block_number is None
        ]
    for anchor in waiting:
        if chain.transaction(anchor.tx_hash) is None:
            _send(db, chain, anchor)  # recorded, then lost before or after sending
        mined = _settle(db, chain, anchor, timeout)
        if mined is None:
            pending.append(anchor)
        else:
            confirmed.append(_mark_mined(db, anchor.id, mined))
    if pending:
        return AnchorOutcome(anchored=None, confirmed=confirmed, pending=pending)
    with db.transaction(readonly=True) as session:
        checkpoint = due_checkpoint(session, chain_id=chain.chain_id, every=every)
    if checkpoint is None:
        return AnchorOutcome(anchored=None, confirmed=confirmed, pending=[])
    signed = chain.sign(account, anchor_payload(checkpoint.note))
    with db.transaction() as session:
        if session.scalar(
            select(LedgerAnchor.id).where(
                LedgerAnchor.checkpoint_id == checkpoint.id,
                LedgerAnchor.chain_id == chain.chain_id,
            )
        ):  # another run anchored it meanwhile; the signed transaction is never sent
            return AnchorOutcome(anchored=None, confirmed=confirmed, pending=[])
        row = LedgerAnchor(
            checkpoint_id=checkpoint.id,
            chain_id=chain.chain_id,
            sender=signed.sender,
            payload=signed.payload,
            tx_hash=signed.tx_hash,
            raw_tx=signed.raw,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        record = _record(row)
    _send(db, chain, record)
    mined = _settle(db, chain, record, timeout)
    if mined is None:
        return AnchorOutcome(anchored=None, confirmed=confirmed, pending=[record])
    return AnchorOutcome(
        anchored=_mark_mined(db, record.id, mined), confirmed=confirmed, pending=[]
    )


@dataclass(slots=True)
class AnchorReport:
    """What ``verify --anchored`` found: each problem names its checkpoint."""

    anchors: list[AnchorRecord]
    problems: list[str]
    head: int


def verify_anchors(
    session: Session,
    chain: Chain,
    *,
    verifier_keys: list[str],
    sender: str,
    confirmations: int,
) -> AnchorReport:
    """Check every anchor recorded for ``chain`` against the chain and the log.

    For each: the transaction is on the chain, mined ``confirmations`` deep, successful,
    from ``sender`` to itself, and carries the hash of the stored checkpoint's signed
    text; that checkpoint's note verifies with ``verifier_keys``, agrees with its stored
    size and root, and its root equals the log's root at that size. (Run it with
    ``audit_ledger``, which checks the stored tree against the entries.)
    """
    anchors = list_anchors(session, chain_id=chain.chain_id)
    head = chain.head()
    report = AnchorReport(anchors=anchors, problems=[], head=head)
    if not anchors:
        report.problems.append(
            f"no checkpoint is anchored on chain {chain.chain_id}; run `loupe ledger anchor`"
        )
        return report
    log = MerkleLog(SqlTreeStore(session))
    size = ledger_size(session)
    for anchor in anchors:
        row = session.get(LedgerCheckpoint, anchor.checkpoint_id)
        assert row is not None  # the foreign key
        checkpoint = _checkpoint_record(row)
        where = f"checkpoint {checkpoint.id} (size {checkpoint.size})"
        claim = AnchorClaim(
            checkpoint_id=checkpoint.id,
            size=checkpoint.size,
            note=checkpoint.note,
            tx_hash=anchor.tx_hash,
            chain_id=anchor.chain_id,
            sender=anchor.sender,
            block_number=anchor.block_number,
        )
        found = chain.transaction(anchor.tx_hash)
        report.problems += anchor_problems(
            claim,
            found,
            head=head,
            chain_id=chain.chain_id,
            sender=sender,
            confirmations=confirmations,
        )
        try:
            signed = verify_checkpoint(checkpoint.note, verifier_keys)
        except VerificationError as exc:
            report.problems.append(f"{where}: its note's signature does not verify: {exc}")
            continue
        if (signed.size, signed.root_hash) != (checkpoint.size, checkpoint.root_hash):
            report.problems.append(f"{where}: stored size or root differs from its signed note")
        if signed.size > size:
            report.problems.append(f"{where}: signs {signed.size} entries, the log has {size}")
        elif signed.size and log.root(signed.size) != signed.root_hash:
            report.problems.append(
                f"{where}: its anchored root differs from the log's root at size {signed.size}"
            )
    return report
