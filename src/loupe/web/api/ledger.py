"""``/ledger`` (the public log: checkpoints and proofs) and ``/wallet`` (your own entries).

Hashes are lowercase hex; entries are their canonical JSON bytes as text, so a client
can hash them itself (``SHA-256(0x00 || leaf)``) and check them with
``loupe.ledger.verify`` against the signed checkpoint note.

With witnesses configured, the checkpoint served here (and proven against by ``/wallet``
and the default proofs) is the newest one the witnesses cosigned
(:func:`loupe.services.payments.ledger.served_checkpoint`), not one signed a moment ago and not yet
cosigned; entries after it are ``pending``. ``?latest=true`` serves the latest regardless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from loupe.errors import InvalidInput
from loupe.ledger.merkle import ConsistencyProof
from loupe.ledger.verify import CosignerVerifier, hash_leaf
from loupe.services.payments import earnings, ledger
from loupe.services.payments.ledger_keys import ledger_config, optional_ledger_config
from loupe.services.payments.witnesses import load_witnesses
from loupe.settings import Settings
from loupe.web.deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(tags=["ledger"])


class CheckpointOut(BaseModel):
    """A signed tree head, with every verifier key that ever signed one."""

    size: int
    root_hash: str = Field(description="hex")
    note: str = Field(description="the C2SP signed note; verify it with verifier_keys")
    key_name: str
    key_hash: str = Field(description="8 hex digits")
    created_at: datetime
    verifier_keys: list[str] = Field(description="current and retired keys, oldest first")
    cosigners: list[str] = Field(
        description="the configured witnesses whose cosignature on it verifies"
    )
    latest_size: int = Field(
        description="the newest checkpoint's size: larger while the witnesses catch up"
    )


class InclusionOut(BaseModel):
    index: int
    tree_size: int
    leaf: str = Field(description="the entry's canonical JSON bytes")
    leaf_hash: str
    path: list[str]
    root_hash: str


class ConsistencyOut(BaseModel):
    first: int
    second: int
    path: list[str]
    first_root: str
    second_root: str


class EntryOut(BaseModel):
    index: int
    kind: str
    amount_minor: int
    currency: str
    rule: str
    rate_card_version: str
    corrects: int | None
    item: str | None
    timestamp: int
    payout_id: int | None
    created_at: datetime
    leaf: str
    leaf_hash: str
    proof: list[str] | None = Field(
        description="inclusion path in the wallet's checkpoint; null while newer than it"
    )
    pending: str | None = Field(
        description="why there is no proof yet, e.g. 'not yet covered by a witnessed "
        "checkpoint'; null when proven"
    )


class BalanceOut(BaseModel):
    currency: str
    earned_minor: int
    paid_out_minor: int
    balance_minor: int = Field(description="below zero when money is owed back")
    owed_back_minor: int = Field(
        description="owed back after a rejection of paid work; netted against later "
        "earnings, never paid out (docs/payments.md)"
    )


class WalletOut(BaseModel):
    contributor: str | None = Field(description="your pseudonym in the log")
    checkpoint: CheckpointOut | None
    balances: list[BalanceOut]
    entries: list[EntryOut]
    next_after: int | None
    consistency: ConsistencyOut | None = Field(
        description="proof from the ?since size to the checkpoint's; null without one"
    )


class CorrectionIn(BaseModel):
    index: int = Field(ge=0, description="the entry to correct")
    amount_minor: int = Field(description="signed, non-zero")
    reason: str = Field(min_length=1, max_length=40, description="e.g. overpaid")


class EntryCreated(BaseModel):
    index: int


Quorum = Annotated[
    int | None,
    Query(ge=1, le=1000, description="witness cosignatures wanted; default: all configured"),
]
Since = Annotated[
    int,
    Query(
        ge=0,
        le=2**62,
        description="the size of a checkpoint you verified before: never serve an older one",
    ),
]


def configured_witnesses(settings: Settings) -> list[CosignerVerifier]:
    """The witnesses this server asks to cosign (``ledger_witnesses_file``).

    A file that cannot be read means none: nothing is cosigned then (the cosigner logs
    why), so the latest checkpoint is served, as without witnesses.
    """
    if settings.ledger_witnesses_file is None:
        return []
    try:
        return [w.verifier for w in load_witnesses(settings.ledger_witnesses_file)]
    except InvalidInput:
        return []


def checkpoint_out(served: ledger.ServedCheckpoint, settings: Settings) -> CheckpointOut:
    config = optional_ledger_config(settings)
    record = served.record
    return CheckpointOut(
        size=record.size,
        root_hash=record.root_hash.hex(),
        note=record.note,
        key_name=record.key_name,
        key_hash=f"{record.key_hash:08x}",
        created_at=record.created_at,
        verifier_keys=list(config.keys.verifier_keys) if config else [],
        cosigners=list(served.cosigners),
        latest_size=served.latest_size,
    )


def consistency_out(proof: ConsistencyProof) -> ConsistencyOut:
    return ConsistencyOut(
        first=proof.size1,
        second=proof.size2,
        path=[node.hex() for node in proof.path],
        first_root=proof.root1.hex(),
        second_root=proof.root2.hex(),
    )


def entry_out(item: ledger.WalletEntry) -> EntryOut:
    entry = item.entry
    return EntryOut(
        index=item.index,
        kind=entry.kind,
        amount_minor=entry.amount_minor,
        currency=entry.currency,
        rule=entry.rule,
        rate_card_version=entry.rate_card_version,
        corrects=entry.corrects,
        item=entry.item,
        timestamp=entry.timestamp,
        payout_id=item.payout_id,
        created_at=item.created_at,
        leaf=item.leaf.decode("ascii"),
        leaf_hash=hash_leaf(item.leaf).hex(),
        proof=[node.hex() for node in item.proof] if item.proof is not None else None,
        pending=item.pending,
    )


@router.get("/ledger/checkpoint", response_model=CheckpointOut)
def get_checkpoint(
    ctx: Reader,
    quorum: Quorum = None,
    since: Since = 0,
    latest: Annotated[
        bool, Query(description="the latest checkpoint, cosigned or not (operators)")
    ] = False,
) -> CheckpointOut:
    """The checkpoint to verify against: with witnesses, the newest they cosigned.

    Save it: later ones must be consistent with it.
    """
    served = ledger.checkpoint(
        ctx.session,
        ctx.actor,
        configured_witnesses(ctx.settings),
        quorum=quorum,
        since=since,
        latest=latest,
    )
    return checkpoint_out(served, ctx.settings)


@router.post(
    "/ledger/checkpoint", response_model=CheckpointOut, status_code=status.HTTP_201_CREATED
)
def create_checkpoint(ctx: Writer) -> CheckpointOut:
    """Sign and publish the current tree head now (admins)."""
    actor = ctx.actor  # authenticate before looking for keys
    record = ledger.publish(ctx.session, actor, ledger_config(ctx.settings).keys)
    witnesses = len(configured_witnesses(ctx.settings))
    return checkpoint_out(ledger.ServedCheckpoint(record, (), witnesses, record.size), ctx.settings)


@router.get("/ledger/proof/inclusion", response_model=InclusionOut)
def get_inclusion_proof(
    ctx: Reader,
    index: Annotated[int, Query(ge=0, le=2**62, description="entry index")],
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="default: GET /ledger/checkpoint's size"),
    ] = None,
) -> InclusionOut:
    """An entry with its inclusion proof (auditors and admins; contributors: /wallet)."""
    proof, leaf = ledger.inclusion_proof(
        ctx.session,
        ctx.actor,
        index=index,
        tree_size=tree_size,
        witnesses=configured_witnesses(ctx.settings),
    )
    return InclusionOut(
        index=proof.index,
        tree_size=proof.tree_size,
        leaf=leaf.decode("ascii"),
        leaf_hash=proof.leaf_hash.hex(),
        path=[node.hex() for node in proof.path],
        root_hash=proof.root.hex(),
    )


@router.get("/ledger/proof/consistency", response_model=ConsistencyOut)
def get_consistency_proof(
    ctx: Reader,
    first: Annotated[int, Query(ge=1, le=2**62, description="the older tree size")],
    second: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="default: GET /ledger/checkpoint's size"),
    ] = None,
) -> ConsistencyOut:
    """Proof that the log of ``first`` entries is a prefix of the log of ``second``."""
    proof = ledger.consistency_proof(
        ctx.session,
        ctx.actor,
        first=first,
        second=second,
        witnesses=configured_witnesses(ctx.settings),
    )
    return consistency_out(proof)


@router.post(
    "/ledger/corrections", response_model=EntryCreated, status_code=status.HTTP_201_CREATED
)
def create_correction(body: CorrectionIn, ctx: Writer) -> EntryCreated:
    """Correct an entry by appending a signed amount that names it (admins)."""
    actor = ctx.actor  # authenticate before looking for keys
    index = earnings.correct_entry(
        ctx.session,
        actor,
        ledger_config(ctx.settings),
        body.index,
        amount_minor=body.amount_minor,
        reason=body.reason,
    )
    return EntryCreated(index=index)


@router.get("/wallet", response_model=WalletOut)
def get_wallet(
    ctx: Reader,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="entries after this index")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    quorum: Quorum = None,
    since: Since = 0,
) -> WalletOut:
    """Your entries with inclusion proofs against GET /ledger/checkpoint's checkpoint (the
    newest the witnesses cosigned; later entries are pending), and your balance.

    With ``since``, also the consistency proof from that size.
    """
    actor = ctx.actor  # authenticate before looking for keys
    config = optional_ledger_config(ctx.settings)
    page = ledger.wallet(
        ctx.session,
        actor,
        secret=config.keys.secret if config else None,
        after=after,
        limit=limit,
        witnesses=configured_witnesses(ctx.settings),
        quorum=quorum,
        since=since,
    )
    contributor = None
    if page.entries:
        contributor = page.entries[0].entry.contributor
    return WalletOut(
        contributor=contributor,
        checkpoint=checkpoint_out(page.checkpoint, ctx.settings) if page.checkpoint else None,
        balances=[
            BalanceOut(
                currency=b.currency,
                earned_minor=b.earned_minor,
                paid_out_minor=b.paid_out_minor,
                balance_minor=b.balance_minor,
                owed_back_minor=b.owed_back_minor,
            )
            for b in page.balances
        ],
        entries=[entry_out(item) for item in page.entries],
        next_after=page.next_after,
        consistency=consistency_out(page.consistency) if page.consistency else None,
    )
