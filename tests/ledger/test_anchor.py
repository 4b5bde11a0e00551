"""The pure part of anchoring: the payload, its gas, and judging what the chain holds."""

from __future__ import annotations

import hashlib

import pytest

from loupe.ledger.anchor import (
    AnchorClaim,
    ChainTransaction,
    anchor_gas,
    anchor_payload,
    anchor_problems,
    signed_text,
)
from loupe.ledger.checkpoint import NoteSigner, sign_checkpoint
from loupe.ledger.verify import EMPTY_ROOT, Checkpoint, VerificationError

SENDER = "0x" + "ab" * 20
BODY = "example.org/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"


def test_payload_is_sha256_of_the_signed_text_known_answer() -> None:
    note = BODY + "\n\u2014 example.org/log AAAAAA==\n"
    assert signed_text(note) == BODY
    assert anchor_payload(note) == hashlib.sha256(BODY.encode()).digest()
    assert anchor_payload(note).hex() == (
        "10e99a1cdea5b529b372690a138f684d4bcad91792269a1f09020af3d4736a4a"
    )


def test_payload_ignores_witness_cosignatures_and_is_only_32_bytes() -> None:
    signer = NoteSigner.generate("example.org/log")
    note = sign_checkpoint(Checkpoint("example.org/log", 0, EMPTY_ROOT), [signer])
    cosigned = note + "\u2014 witness.example AAAAAAAAAAAA\n"
    assert anchor_payload(note) == anchor_payload(cosigned)
    assert len(anchor_payload(note)) == 32


def test_payload_needs_a_signed_note() -> None:
    with pytest.raises(VerificationError):
        anchor_payload(BODY)


@pytest.mark.parametrize(
    ("payload", "gas"),
    [(b"\x01" * 32, 21_512), (b"\x00" * 32, 21_128), (b"", 21_000), (b"\x00\x01", 21_020)],
)
def test_anchor_gas_is_the_intrinsic_gas_of_a_call(payload: bytes, gas: int) -> None:
    assert anchor_gas(payload) == gas


def _claim(note: str, *, block: int | None = 5, chain_id: int = 1337) -> AnchorClaim:
    return AnchorClaim(
        checkpoint_id=3,
        size=0,
        note=note,
        tx_hash=b"\x07" * 32,
        chain_id=chain_id,
        sender=SENDER,
        block_number=block,
    )


def _found(note: str, **changes: object) -> ChainTransaction:
    fields: dict[str, object] = {
        "tx_hash": b"\x07" * 32,
        "chain_id": 1337,
        "sender": SENDER,
        "to": SENDER,
        "value": 0,
        "data": anchor_payload(note),
        "block_number": 5,
        "status": 1,
    }
    fields.update(changes)
    return ChainTransaction(**fields)  # type: ignore[arg-type]


NOTE = BODY + "\n\u2014 example.org/log AAAAAA==\n"


def _problems(found: ChainTransaction | None, claim: AnchorClaim | None = None) -> list[str]:
    return anchor_problems(
        claim or _claim(NOTE), found, head=6, chain_id=1337, sender=SENDER, confirmations=2
    )


def test_a_matching_mined_transaction_has_no_problem() -> None:
    assert _problems(_found(NOTE)) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"data": b"\x00" * 32}, "changed after it was anchored"),
        ({"status": 0}, "failed (status 0)"),
        ({"block_number": None, "status": None}, "not mined yet"),
        ({"block_number": 6}, "recorded in block 5"),
        ({"chain_id": 1}, "is for chain 1"),
        ({"sender": "0x" + "cd" * 20}, "not from the anchoring account"),
        ({"to": "0x" + "cd" * 20}, "not from the anchoring account"),
    ],
)
def test_each_disagreement_is_a_problem_naming_the_checkpoint(
    changes: dict[str, object], words: str
) -> None:
    problems = _problems(_found(NOTE, **changes))
    assert any(words in p for p in problems), problems
    assert all(p.startswith("checkpoint 3 (size 0): ") for p in problems)


def test_too_few_confirmations() -> None:
    problems = anchor_problems(
        _claim(NOTE), _found(NOTE), head=5, chain_id=1337, sender=SENDER, confirmations=2
    )
    assert problems == [
        "checkpoint 3 (size 0): anchor transaction 0x"
        + "07" * 32
        + " has 1 confirmation(s), 2 required"
    ]


def test_missing_transaction_and_other_chain() -> None:
    assert "is not on chain 1337" in _problems(None)[0]
    assert (
        "anchored on chain 1, but the node is chain 1337"
        in _problems(_found(NOTE), _claim(NOTE, chain_id=1))[0]
    )
