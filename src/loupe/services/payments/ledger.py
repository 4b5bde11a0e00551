"""Reading and auditing the payment log: checkpoints, proofs, wallets and the full audit.

Writers live in :mod:`loupe.services.payments.ledger_store` and
:mod:`loupe.services.payments.earnings`.
The audit (:func:`audit_ledger`) trusts nothing in the database: it rebuilds the whole
tree from the stored entry bytes, compares every stored node and checks every stored
checkpoint's signature and root, and reports each difference by position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.ledger_models import LedgerEntry
from loupe.errors import Conflict, InvalidInput, LedgerIntegrityError
from loupe.ledger.entries import PaymentEntry
from loupe.ledger.merkle import (
    ConsistencyProof,
    InclusionProof,
    InMemoryTreeStore,
    MerkleLog,
    NodeKey,
    ProofPlan,
    inclusion_plan,
)
from loupe.ledger.verify import (
    HASH_SIZE,
    CosignerVerifier,
    VerificationError,
    verify_checkpoint,
)
from loupe.services.access import Actor, authorize
from loupe.services.payments.earnings import Balance, balances
from loupe.services.payments.ledger_keys import LedgerKeys
from loupe.services.payments.ledger_store import (
    CheckpointRecord,
    ColumnCheck,
    SqlTreeStore,
    iter_node_chunks,
    iter_stored_chunks,
    latest_checkpoint,
    ledger_size,
    list_checkpoints,
    publish_checkpoint,
)
from loupe.services.payments.witnesses import cosigned_by

__all__ = [
    "PENDING_CHECKPOINT",
    "PENDING_WITNESSES",
    "AuditReport",
    "ServedCheckpoint",
    "WalletEntry",
    "WalletPage",
    "audit_ledger",
    "checkpoint",
    "consistency_proof",
    "entries_with_proofs",
    "inclusion_proof",
    "publish",
    "served_checkpoint",
    "wallet",
]

MAX_PROBLEMS = 50

#: Why an entry carries no inclusion proof yet (``WalletEntry.pending``).
PENDING_CHECKPOINT = "not yet covered by a checkpoint"
PENDING_WITNESSES = "not yet covered by a witnessed checkpoint"


@dataclass(frozen=True, slots=True)
class ServedCheckpoint:
    """The checkpoint contributors verify against (see :func:`served_checkpoint`).

    ``cosigners`` names the configured witnesses whose cosignature on it verifies;
    ``latest_size`` is the newest checkpoint's size (larger while witnesses catch up).
    """

    record: CheckpointRecord
    cosigners: tuple[str, ...]
    witnesses: int
    latest_size: int

    @property
    def pending(self) -> str:
        """Why an entry past this checkpoint has no proof yet."""
        return PENDING_WITNESSES if self.witnesses else PENDING_CHECKPOINT


def served_checkpoint(
    session: Session,
    witnesses: Sequence[CosignerVerifier],
    *,
    quorum: int | None = None,
    since: int = 0,
    latest: bool = False,
) -> ServedCheckpoint | None:
    """The checkpoint to prove entries against; ``None`` before the first.

    With no ``witnesses`` configured (or ``latest``): the latest checkpoint. Otherwise the
    newest checkpoint of at least ``since`` entries cosigned by at least ``quorum`` of the
    configured witnesses (default: all of them); when none is, the newest with the most
    such cosignatures; when none has any, the latest. A checkpoint the server just signed
    is thus served only once the witnesses cosigned it, so a contributor who requires a
    quorum never sees it fail meanwhile; the entries after it are pending. ``since`` (the
    size of a checkpoint the client verified before) keeps the answer from going back
    behind it; when no checkpoint is that large, the latest is served and the client's
    rollback check speaks.

    Reads one row when the latest checkpoint qualifies (the usual case), all only when not.
    """
    newest = latest_checkpoint(session)
    if newest is None:
        return None

    def served(record: CheckpointRecord, names: tuple[str, ...]) -> ServedCheckpoint:
        return ServedCheckpoint(record, names, len(witnesses), newest.size)

    def names_of(record: CheckpointRecord) -> tuple[str, ...]:
        return tuple(w.name for w in witnesses if cosigned_by(record, w))

    if not witnesses or latest:
        return served(newest, names_of(newest))
    need = min(quorum or len(witnesses), len(witnesses))
    names = names_of(newest)
    if len(names) >= need or newest.size < since:
        return served(newest, names)
    best = (newest, names)
    for record in reversed(list_checkpoints(session)):
        if record.id >= newest.id:
            continue  # the newest, or one committed since: for the next request
        if record.size < since:
            break
        names = names_of(record)
        if len(names) >= need:
            return served(record, names)
        if len(names) > len(best[1]):
            best = (record, names)
    return served(*best)


def checkpoint(
    session: Session,
    actor: Actor,
    witnesses: Sequence[CosignerVerifier] = (),
    *,
    quorum: int | None = None,
    since: int = 0,
    latest: bool = False,
) -> ServedCheckpoint:
    """The checkpoint to verify against (:func:`served_checkpoint`); :class:`Conflict`
    before the first."""
    authorize(actor, "ledger.read")
    found = served_checkpoint(session, witnesses, quorum=quorum, since=since, latest=latest)
    if found is None:
        raise Conflict(
            "no checkpoint has been published yet; run `loupe ledger checkpoint`",
            details={"reason": "no_checkpoint"},
        )
    return found


def publish(session: Session, actor: Actor, keys: LedgerKeys) -> CheckpointRecord:
    """Sign and store the current tree head on demand (admins)."""
    authorize(actor, "payouts.manage")
    return publish_checkpoint(session, keys)


def inclusion_proof(
    session: Session,
    actor: Actor,
    *,
    index: int,
    tree_size: int | None = None,
    witnesses: Sequence[CosignerVerifier] = (),
) -> tuple[InclusionProof, bytes]:
    """Entry ``index``'s proof in the tree of ``tree_size`` (default: the served
    checkpoint's size, :func:`served_checkpoint`), with the entry's canonical bytes."""
    authorize(actor, "ledger.audit")
    if tree_size is None:
        tree_size = checkpoint(session, actor, witnesses).record.size
    proof = MerkleLog(SqlTreeStore(session)).prove_inclusion(index, tree_size)
    leaf = session.scalar(select(LedgerEntry.leaf).where(LedgerEntry.idx == index))
    if leaf is None:
        raise LedgerIntegrityError(
            f"entry {index} is missing from ledger_entries; run `loupe ledger verify`",
            details={"index": index},
        )
    return proof, bytes(leaf)


def consistency_proof(
    session: Session,
    actor: Actor,
    *,
    first: int,
    second: int | None = None,
    witnesses: Sequence[CosignerVerifier] = (),
) -> ConsistencyProof:
    """Proof that the tree of ``first`` leaves is a prefix of the tree of ``second``
    (default: the served checkpoint's size, at least ``first``)."""
    authorize(actor, "ledger.read")
    if second is None:
        second = checkpoint(session, actor, witnesses, since=first).record.size
    return MerkleLog(SqlTreeStore(session)).prove_consistency(first, second)


# --- wallets ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """One of a contributor's entries, with its proof against a checkpoint (if covered)."""

    index: int
    leaf: bytes
    entry: PaymentEntry
    payout_id: int | None
    created_at: datetime
    proof: tuple[bytes, ...] | None  # None: newer than the checkpoint
    pending: str | None = None  # why there is no proof yet (PENDING_*)


@dataclass(frozen=True, slots=True)
class WalletPage:
    checkpoint: ServedCheckpoint | None
    balances: list[Balance]
    entries: list[WalletEntry]
    next_after: int | None
    consistency: ConsistencyProof | None = None  # from ``since`` to the checkpoint


def entries_with_proofs(
    session: Session,
    rows: Sequence[LedgerEntry],
    tree_size: int | None,
    *,
    pending: str = PENDING_CHECKPOINT,
) -> list[WalletEntry]:
    """Attach inclusion proofs in a tree of ``tree_size`` (one node query for all rows);
    a row past it is marked ``pending`` instead."""
    plans: dict[int, ProofPlan] = {}
    if tree_size:
        plans = {row.idx: inclusion_plan(row.idx, tree_size) for row in rows if row.idx < tree_size}
    keys: set[NodeKey] = set()
    for wanted in plans.values():
        keys |= wanted.keys
    nodes = SqlTreeStore(session, size=tree_size).get_nodes(keys)
    result = []
    for row in rows:
        plan = plans.get(row.idx)
        result.append(
            WalletEntry(
                index=row.idx,
                leaf=bytes(row.leaf),
                entry=PaymentEntry.decode(bytes(row.leaf)),
                payout_id=row.payout_id,
                created_at=row.created_at,
                proof=tuple(plan.assemble(nodes)) if plan is not None else None,
                pending=None if plan is not None else pending,
            )
        )
    return result


def wallet(
    session: Session,
    actor: Actor,
    *,
    secret: bytes | None,
    after: int | None = None,
    limit: int = 100,
    witnesses: Sequence[CosignerVerifier] = (),
    quorum: int | None = None,
    since: int = 0,
) -> WalletPage:
    """The actor's own entries (oldest first, ``after`` an index) with proofs and balances.

    The proofs are against :func:`served_checkpoint` (``witnesses``, ``quorum``, ``since``
    as there); entries after it are ``pending``. With ``since`` (the size of a checkpoint
    the client verified before) below the checkpoint's size, the page also carries the
    consistency proof from it.

    The balances are summed from the leaves of all the actor's entries, each checked against
    the columns beside it: one that disagrees refuses the whole wallet
    (:class:`LedgerIntegrityError` naming the position) rather than show a wrong figure.
    """
    authorize(actor, "wallet.read")
    if actor.user_id is None:
        raise InvalidInput("the system actor has no wallet", details={"field": "user"})
    served = served_checkpoint(session, witnesses, quorum=quorum, since=since)
    query = select(LedgerEntry).where(LedgerEntry.user_id == actor.user_id)
    if after is not None:
        query = query.where(LedgerEntry.idx > after)
    rows = session.scalars(query.order_by(LedgerEntry.idx).limit(limit + 1)).all()
    page = rows[:limit]
    size = served.record.size if served else None
    consistency = None
    if size is not None and 0 < since < size:
        consistency = MerkleLog(SqlTreeStore(session)).prove_consistency(since, size)
    return WalletPage(
        checkpoint=served,
        balances=balances(session, actor.user_id, secret=secret),
        entries=entries_with_proofs(
            session, page, size, pending=served.pending if served else PENDING_CHECKPOINT
        ),
        next_after=page[-1].idx if len(rows) > limit else None,
        consistency=consistency,
    )


def user_entries(session: Session, user_id: int) -> Sequence[LedgerEntry]:
    return session.scalars(
        select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.idx)
    ).all()


# --- the audit ----------------------------------------------------------------------------


@dataclass
class AuditReport:
    """What ``loupe ledger verify`` found; ``problems`` is empty when the log verifies."""

    size: int = 0
    entries: int = 0
    nodes: int = 0
    checkpoints: int = 0
    root: bytes = b""
    problems: list[str] = field(default_factory=list)
    n_problems: int = 0

    def problem(self, message: str) -> None:
        self.n_problems += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)


def audit_ledger(
    session: Session,
    actor: Actor,
    *,
    verifier_keys: Iterable[str],
    secret: bytes | None,
    chunk_size: int = 20_000,
    raise_on_problems: bool = True,
) -> AuditReport:
    """Recompute the tree from the stored entries and check everything stored against it.

    Reports by position: a missing, edited or reordered entry (``entry N``), a column
    beside an entry that disagrees with its leaf (``entry N: column user_id ...``, see
    :class:`~loupe.services.payments.ledger_store.ColumnCheck`; ``user_id`` and ``label_id`` need
    the ledger ``secret``), a node that differs from the recomputed one
    (``node (level, idx)``), and a checkpoint whose signature or root does not verify.
    Raises :class:`LedgerIntegrityError` listing them. ``secret`` is required so that every
    caller decides: ``None`` (an auditor without the key directory's secret) leaves whose
    entry it is (``user_id``, ``label_id``) unchecked.

    One pass over the entries in index order (decode, columns, leaf hash), then the tree is
    rebuilt in memory a level at a time (~64 bytes per entry) and the stored nodes are
    streamed against it level by level, compared a chunk at a time.
    """
    authorize(actor, "ledger.audit")
    report = AuditReport(size=ledger_size(session))
    columns = ColumnCheck(session, secret)
    leaf_hashes = bytearray()
    expected = 0
    decode, mismatches, problem = PaymentEntry.decode, columns.mismatches, report.problem
    sha256 = hashlib.sha256  # hash_leaf, inlined: this loop runs once per entry
    for rows in iter_stored_chunks(session, chunk_size):
        for row in rows:
            index, leaf = row.index, row.leaf
            if index != expected:
                problem(f"entries {expected}..{index - 1} are missing (deleted?)")
            try:
                entry = decode(leaf)
            except InvalidInput as exc:
                problem(f"entry {index}: not a canonical payment entry ({exc.message})")
            else:
                # In the same pass: the columns balances and payouts are filed by.
                for column in mismatches(row, entry):
                    problem(f"entry {index}: column {column} disagrees with its leaf")
            digest = sha256(b"\x00" + leaf).digest()
            if digest != row.leaf_hash:
                problem(f"entry {index}: its stored leaf hash does not match its bytes")
            leaf_hashes += digest
            expected = index + 1
        report.entries += len(rows)
    if report.entries != report.size:
        report.problem(f"ledger_state says {report.size} entries but {report.entries} are stored")
    rebuilt = MerkleLog(InMemoryTreeStore.from_leaf_hashes(leaf_hashes))
    del leaf_hashes
    _compare_nodes(session, rebuilt, report, chunk_size)
    size = rebuilt.size()
    report.root = rebuilt.root() if size else b""
    keys = list(verifier_keys)
    for record in list_checkpoints(session):
        report.checkpoints += 1
        where = f"checkpoint {record.id} (size {record.size})"
        try:
            signed = verify_checkpoint(record.note, keys)
        except VerificationError as exc:
            report.problem(f"{where}: signature does not verify: {exc}")
            continue
        if signed.size != record.size or signed.root_hash != record.root_hash:
            report.problem(f"{where}: stored size or root differs from the signed note")
        if signed.size > size:
            report.problem(f"{where}: signs {signed.size} entries but only {size} are stored")
        elif signed.size and rebuilt.root(signed.size) != signed.root_hash:
            report.problem(
                f"{where}: the signed root differs from the root recomputed from the entries"
            )
    if report.n_problems and raise_on_problems:
        shown = "; ".join(report.problems[:5])
        more = f" (and {report.n_problems - 5} more)" if report.n_problems > 5 else ""
        raise LedgerIntegrityError(
            f"the payment log does not verify: {shown}{more}",
            details={"problems": report.problems, "n_problems": report.n_problems},
        )
    return report


def _compare_nodes(
    session: Session, rebuilt: MerkleLog, report: AuditReport, chunk_size: int
) -> None:
    """Stream the stored nodes in (level, idx) order against the rebuilt tree.

    A chunk of consecutive nodes that all match is one byte-string comparison with the
    rebuilt level; any other chunk is checked node by node, to name each difference.
    """
    store, size = rebuilt.store, rebuilt.size()
    assert isinstance(store, InMemoryTreeStore)
    # Level L of a log of n leaves holds nodes 0 .. (n >> L) - 1.
    next_index: dict[int, int] = {}
    levels: dict[int, bytes] = {}

    def gap(level: int, upto: int) -> None:
        start = next_index.get(level, 0)
        if upto > start:
            report.problem(f"nodes ({level}, {start}..{upto - 1}) are missing from ledger_nodes")

    for lv, rows in iter_node_chunks(session, chunk_size):
        first, last = rows[0].idx, rows[-1].idx
        if lv not in levels:
            levels = {lv: store.level(lv)}  # one level at a time: chunks come level by level
        want = levels[lv][first * HASH_SIZE : (last + 1) * HASH_SIZE]
        if (
            last - first + 1 == len(rows)
            and len(want) == len(rows) * HASH_SIZE
            and b"".join([row.hash for row in rows]) == want
        ):
            gap(lv, min(first, size >> lv))
            next_index[lv] = last + 1
            report.nodes += len(rows)
            continue
        expected = store.get_nodes([(lv, row.idx) for row in rows])
        for ix, node in rows:
            gap(lv, min(ix, size >> lv))
            next_index[lv] = ix + 1
            found = expected.get((lv, ix))
            if found is None:
                report.problem(f"node ({lv}, {ix}) is stored but no entry produces it")
            elif found != bytes(node):
                report.problem(f"node ({lv}, {ix}) differs from the hash recomputed from entries")
        report.nodes += len(rows)
    for lv in range(size.bit_length()):
        gap(lv, size >> lv)
