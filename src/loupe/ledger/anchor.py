"""Anchoring checkpoints on a public chain: the 32 bytes that go on it, and the checks.

An anchor is one transaction from the operator's account **to itself**, of value 0,
whose calldata is exactly :func:`anchor_payload` of a checkpoint: the SHA-256 of the
checkpoint's signed text (``<origin>\\n<size>\\n<base64 root>\\n``, the part of the
signed note before its blank line). Nothing else reaches the chain: no entry, no
pseudonym, no signature. Anyone holding the note recomputes the payload with
``sha256sum``; the block the transaction is mined in is a public timestamp that nobody,
the operator included, can later rewrite.

The transaction needs no contract: it costs the intrinsic gas of a call,
21,000 + 16 per non-zero and 4 per zero calldata byte (:func:`anchor_gas`: 21,512 for a
payload without zero bytes, at most 21,512).

This module is pure: the service (:mod:`loupe.services.payments.anchors`) fetches what the chain
says into a :class:`ChainTransaction` and :func:`anchor_problems` judges it. Example::

    >>> note = "example.org/log\\n0\\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\\n\\n— k x\\n"
    >>> anchor_payload(note).hex()[:16]
    '10e99a1cdea5b529'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from loupe.ledger.verify import VerificationError

__all__ = [
    "ANCHOR_PAYLOAD_BYTES",
    "AnchorClaim",
    "ChainTransaction",
    "anchor_gas",
    "anchor_payload",
    "anchor_problems",
    "signed_text",
]

ANCHOR_PAYLOAD_BYTES = 32


def signed_text(note: str) -> str:
    """The signed text of a signed note (what its signatures cover), blank line excluded."""
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("a signed note needs a blank line before its signatures")
    return note[: split + 1]


def anchor_payload(note: str) -> bytes:
    """The 32 bytes anchored for a checkpoint: SHA-256 of its signed text.

    Witness cosignature lines appended to the note later do not change it.
    """
    return hashlib.sha256(signed_text(note).encode("utf-8")).digest()


def anchor_gas(payload: bytes) -> int:
    """The gas of an anchor transaction: a plain call's intrinsic gas for ``payload``."""
    zeros = payload.count(0)
    return 21_000 + 4 * zeros + 16 * (len(payload) - zeros)


@dataclass(frozen=True, slots=True)
class ChainTransaction:
    """What the chain reports for a transaction hash (``None`` fields: not mined yet)."""

    tx_hash: bytes
    chain_id: int | None
    sender: str
    to: str | None
    value: int
    data: bytes
    block_number: int | None
    status: int | None


@dataclass(frozen=True, slots=True)
class AnchorClaim:
    """What the database says was anchored: the transaction and the checkpoint's note."""

    checkpoint_id: int
    size: int
    note: str
    tx_hash: bytes
    chain_id: int
    sender: str
    block_number: int | None


def anchor_problems(
    claim: AnchorClaim,
    found: ChainTransaction | None,
    *,
    head: int,
    chain_id: int,
    sender: str,
    confirmations: int,
) -> list[str]:
    """Why ``found`` (what the chain ``chain_id`` holds at block ``head``) does not anchor
    ``claim``'s checkpoint for ``sender`` with ``confirmations`` blocks; ``[]`` when it does.

    Each problem names the checkpoint. The note's signature and its consistency with
    the log are checked by the caller (they need keys and the log).
    """
    where = f"checkpoint {claim.checkpoint_id} (size {claim.size})"
    tx = "0x" + claim.tx_hash.hex()
    try:
        payload = anchor_payload(claim.note)
    except VerificationError as exc:
        return [f"{where}: its stored note is malformed ({exc})"]
    if claim.chain_id != chain_id:
        return [f"{where}: anchored on chain {claim.chain_id}, but the node is chain {chain_id}"]
    if found is None:
        return [f"{where}: anchor transaction {tx} is not on chain {chain_id}"]
    problems = []
    if found.chain_id is not None and found.chain_id != chain_id:
        problems.append(f"{where}: transaction {tx} is for chain {found.chain_id}")
    if found.block_number is None:
        problems.append(f"{where}: anchor transaction {tx} is not mined yet")
    else:
        if found.status != 1:
            problems.append(f"{where}: anchor transaction {tx} failed (status {found.status})")
        if claim.block_number is not None and claim.block_number != found.block_number:
            problems.append(
                f"{where}: recorded in block {claim.block_number}, but the chain has "
                f"transaction {tx} in block {found.block_number}"
            )
        have = head - found.block_number + 1
        if have < confirmations:
            problems.append(
                f"{where}: anchor transaction {tx} has {have} confirmation(s), "
                f"{confirmations} required"
            )
    if found.sender.lower() != sender.lower() or (found.to or "").lower() != sender.lower():
        problems.append(
            f"{where}: transaction {tx} is from {found.sender} to {found.to}, "
            f"not from the anchoring account {sender} to itself"
        )
    if found.data != payload:
        problems.append(
            f"{where}: transaction {tx} carries {found.data.hex() or 'nothing'}, but the "
            f"stored checkpoint hashes to {payload.hex()} (the checkpoint was changed "
            "after it was anchored)"
        )
    return problems
