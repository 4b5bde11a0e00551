"""verify.py against hostile input: a server (or a file) that hands the verifier values of
the wrong type, absurd sizes or relabelled cosignatures gets a VerificationError naming the
problem, never a TypeError or ValueError, and never a false acceptance."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint, sign_note
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.verify import (
    CosignerVerifier,
    VerificationError,
    hash_leaf,
    is_consistent,
    is_included,
    verify_checkpoint,
    verify_consistency,
    verify_cosigned_checkpoint,
    verify_inclusion,
)
from loupe.ledger.witness import CosignerSigner

ORIGIN = "log.example/pay"
GOOD: Any = object()  # stands for the well-formed value in the parameters below


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many([b"leaf%d" % i for i in range(7)])
    return log


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.mark.parametrize(
    ("proof", "root", "reason"),
    [
        (None, GOOD, "a proof is a list of hashes, got NoneType"),
        ("abcd", GOOD, "a proof is a list of hashes, got str"),
        (b"\x00" * 32, GOOD, "a proof is a list of hashes, got bytes"),
        (7, GOOD, "a proof is a list of hashes, got int"),
        ([None], GOOD, "proof\\[0\\] must be 32 bytes, got NoneType"),
        (GOOD, "ab" * 32, "root must be 32 bytes, got str"),
        (GOOD, 12, "root must be 32 bytes, got int"),
    ],
)
def test_inclusion_with_values_of_the_wrong_type(
    log: MerkleLog, proof: Any, root: Any, reason: str
) -> None:
    good_proof, good_root = log.inclusion_proof(0, 7), log.root(7)
    args = (hash_leaf(b"leaf0"), 0, 7, good_proof if proof is GOOD else proof)
    args_root = good_root if root is GOOD else root
    with pytest.raises(VerificationError, match=reason):
        verify_inclusion(*args, args_root)
    assert is_included(*args, args_root) is False


@pytest.mark.parametrize(
    ("size2", "proof", "root1", "root2", "reason"),
    [
        (9, GOOD, "x", GOOD, "root1 must be bytes, got str"),
        (7, [], GOOD, 5, "root2 must be bytes, got int"),
        (9, GOOD, GOOD, b"short", "root2 must be 32 bytes, got 5"),
        (9, "ab", GOOD, GOOD, "a proof is a list of hashes, got str"),
        (9, None, GOOD, GOOD, "a proof is a list of hashes, got NoneType"),
    ],
)
def test_consistency_with_values_of_the_wrong_type(
    size2: int, proof: Any, root1: Any, root2: Any, reason: str
) -> None:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many([b"leaf%d" % i for i in range(9)])
    args = (
        7,
        size2,
        log.consistency_proof(7, size2) if proof is GOOD else proof,
        log.root(7) if root1 is GOOD else root1,
        log.root(size2) if root2 is GOOD else root2,
    )
    with pytest.raises(VerificationError, match=reason):
        verify_consistency(*args)
    assert is_consistent(*args) is False


@pytest.mark.parametrize(
    ("note", "verifiers", "reason"),
    [
        (5, GOOD, "a signed note is text, got int"),
        (None, GOOD, "a signed note is text, got NoneType"),
        (GOOD, [5], "a log verifier is a key string or NoteVerifier, got int"),
        (GOOD, "KEY", "give a list of verifier keys, got str"),
    ],
)
def test_checkpoint_with_values_of_the_wrong_type(
    log: MerkleLog, signer: NoteSigner, note: Any, verifiers: Any, reason: str
) -> None:
    good = sign_checkpoint(make_checkpoint(ORIGIN, 7, log.root(7)), [signer])
    with pytest.raises(VerificationError, match=reason):
        verify_checkpoint(
            good if note is GOOD else note,
            {"KEY": signer.verifier_key}.get(verifiers, verifiers)
            if isinstance(verifiers, str)
            else [signer.verifier_key]
            if verifiers is GOOD
            else verifiers,
        )


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("9" * 5000, "above the largest tree size"),  # int() alone: ValueError, > 4,300 digits
        (str(2**64), "above the largest tree size"),
    ],
)
def test_a_signed_checkpoint_of_an_absurd_size_is_refused(
    signer: NoteSigner, size: str, reason: str
) -> None:
    body = f"{ORIGIN}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"
    with pytest.raises(VerificationError, match=reason):
        verify_checkpoint(sign_note(body, [signer]), [signer.verifier_key])
    largest = f"{ORIGIN}\n{2**64 - 1}\n{base64.b64encode(bytes(32)).decode()}\n"
    assert verify_checkpoint(sign_note(largest, [signer]), [signer.verifier_key]).size == 2**64 - 1


def test_one_witness_listed_under_two_names_counts_once(log: MerkleLog, signer: NoteSigner) -> None:
    """The cosigned message names no witness, so the operator can copy a witness's line
    under another name the same key is listed with; that must not make a quorum of 2."""
    checkpoint = make_checkpoint(ORIGIN, 7, log.root(7))
    note = sign_checkpoint(checkpoint, [signer])
    witness = CosignerSigner.generate("w1.example")
    line = witness.cosign(checkpoint.to_text(), 1_700_000_000)
    alias = CosignerVerifier.from_public_key("w2.example", witness.verifier.public_key)
    payload = base64.b64decode(line.split()[2])[4:]
    relabelled = "\u2014 w2.example " + base64.b64encode(
        alias.key_hash.to_bytes(4, "big") + payload
    ).decode("ascii")
    keys = [witness.verifier_key, alias.to_key()]
    with pytest.raises(VerificationError, match="quorum 2 is more than the 1 witness key"):
        verify_cosigned_checkpoint(
            note + line + relabelled + "\n", [signer.verifier_key], keys, quorum=2
        )
    other = CosignerSigner.generate("w3.example")
    with pytest.raises(VerificationError, match="only 1 of the 2 trusted witnesses"):
        verify_cosigned_checkpoint(
            note + line + relabelled + "\n",
            [signer.verifier_key],
            [*keys, other.verifier_key],
            quorum=2,
        )
    both = note + line + other.cosign(checkpoint.to_text(), 1_700_000_000)
    cosigned = verify_cosigned_checkpoint(
        both, [signer.verifier_key], [*keys, other.verifier_key], quorum=2
    )
    assert cosigned.cosigners == ("w1.example", "w3.example")
