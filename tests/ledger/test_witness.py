"""The witness: cosigns only consistent growth; catches split views and rewrites."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from loupe.errors import Conflict, InvalidInput, LedgerIntegrityError, NotFound, PermissionDenied
from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.verify import (
    CosignerVerifier,
    VerificationError,
    cosignature_message,
    verify_cosigned_checkpoint,
)
from loupe.ledger.witness import (
    CosignerSigner,
    Witness,
    format_add_checkpoint,
    parse_add_checkpoint,
)

ORIGIN = "log.example/pay"
NOW = 1_700_000_000


def _log(leaves: list[bytes]) -> MerkleLog:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many(leaves)
    return log


def _note(log: MerkleLog, size: int, signer: NoteSigner) -> str:
    return sign_checkpoint(make_checkpoint(ORIGIN, size, log.root(size)), [signer])


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path: Path, signer: NoteSigner) -> Witness:
    return Witness.init(tmp_path / "w", name="w.example/1", log_keys=[signer.verifier_key])


def test_cosignature_line_follows_c2sp_tlog_cosignature() -> None:
    cosigner = CosignerSigner.generate("w.example/1")
    body = "o\n1\n" + "A" * 43 + "=\n"
    line = cosigner.cosign(body, NOW)
    name, payload = line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    import base64
    import hashlib

    raw = base64.b64decode(payload)
    public = cosigner.verifier.public_key
    key_id = hashlib.sha256(b"w.example/1\n\x04" + public).digest()[:4]
    assert name == "w.example/1" and raw[:4] == key_id and len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == NOW
    assert cosignature_message(body, NOW) == f"cosignature/v1\ntime {NOW}\n{body}".encode()
    assert cosigner.verifier.verify(body, raw[4:]) == NOW
    assert CosignerVerifier.from_key(cosigner.verifier_key) == cosigner.verifier
    assert CosignerSigner.from_key(cosigner.to_key()).verifier_key == cosigner.verifier_key


def test_cosigns_consistent_growth_and_remembers_it(
    witness: Witness, signer: NoteSigner, tmp_path: Path
) -> None:
    log = _log([b"a", b"b", b"c"])
    first = _note(log, 3, signer)
    lines = witness.add_checkpoint(old_size=0, proof=[], note=first, now=NOW)
    assert verify_cosigned_checkpoint(
        first + "".join(lines), [signer.verifier_key], [witness.verifier_key], quorum=1
    ).cosigners == ("w.example/1",)
    log.append_many([b"d", b"e"])
    second = _note(log, 5, signer)
    proof = list(log.prove_consistency(3, 5).path)
    again = Witness(tmp_path / "w")  # state survives a restart
    lines = again.add_checkpoint(old_size=3, proof=proof, note=second, now=NOW + 1)
    cosigned = verify_cosigned_checkpoint(
        second + "".join(lines), [signer.verifier_key], [witness.verifier_key], quorum=1
    )
    assert (cosigned.checkpoint.size, cosigned.timestamps) == (5, (NOW + 1,))
    assert again.state()[ORIGIN].size == 5


def test_split_view_for_the_same_size_is_detected(witness: Witness, signer: NoteSigner) -> None:
    honest = _log([b"a", b"b"])
    witness.add_checkpoint(old_size=0, proof=[], note=_note(honest, 2, signer), now=NOW)
    fork = _log([b"a", b"B"])
    with pytest.raises(LedgerIntegrityError, match="split view") as raised:
        witness.add_checkpoint(old_size=2, proof=[], note=_note(fork, 2, signer), now=NOW)
    assert raised.value.details == {"reason": "split_view", "size": 2}
    assert witness.state()[ORIGIN].root_hash == honest.root(2)  # nothing changed


def test_rewritten_history_has_no_consistency_proof(witness: Witness, signer: NoteSigner) -> None:
    honest = _log([b"a", b"b", b"c"])
    witness.add_checkpoint(old_size=0, proof=[], note=_note(honest, 3, signer), now=NOW)
    rewritten = _log([b"a", b"X", b"c", b"d"])
    proof = list(rewritten.prove_consistency(3, 4).path)
    with pytest.raises(InvalidInput, match="history changed"):
        witness.add_checkpoint(old_size=3, proof=proof, note=_note(rewritten, 4, signer))
    assert witness.state()[ORIGIN].size == 3


def test_refusals_follow_the_witness_protocol(
    witness: Witness, signer: NoteSigner, tmp_path: Path
) -> None:
    log = _log([b"a", b"b", b"c"])
    witness.add_checkpoint(old_size=0, proof=[], note=_note(log, 2, signer), now=NOW)
    with pytest.raises(Conflict) as stale:  # old size is not what it cosigned
        witness.add_checkpoint(old_size=0, proof=[], note=_note(log, 3, signer))
    assert stale.value.details == {"size": 2}
    with pytest.raises(InvalidInput) as backwards:  # rollback: old size above the new one
        witness.add_checkpoint(old_size=2, proof=[], note=_note(log, 1, signer))
    assert backwards.value.details["reason"] == "bad_request"
    stranger = NoteSigner.generate(ORIGIN)
    with pytest.raises(PermissionDenied):
        witness.add_checkpoint(old_size=2, proof=[], note=_note(log, 3, stranger))
    other = sign_checkpoint(make_checkpoint("other.example", 3, log.root(3)), [signer])
    with pytest.raises(NotFound):
        witness.add_checkpoint(old_size=0, proof=[], note=other)
    assert witness.state()[ORIGIN].size == 2
    with pytest.raises(NotFound, match="witness init"):
        Witness(tmp_path / "missing")


def test_quorum_counts_only_trusted_valid_cosignatures(tmp_path: Path, signer: NoteSigner) -> None:
    log = _log([b"a"])
    note = _note(log, 1, signer)
    one = Witness.init(tmp_path / "1", name="w1", log_keys=[signer.verifier_key])
    two = Witness.init(tmp_path / "2", name="w2", log_keys=[signer.verifier_key])
    lines = one.add_checkpoint(old_size=0, proof=[], note=note, now=NOW)
    keys = [one.verifier_key, two.verifier_key]
    cosigned = note + "".join(lines)
    assert verify_cosigned_checkpoint(cosigned, [signer.verifier_key], keys, quorum=1).cosigners
    with pytest.raises(VerificationError, match="only 1 of the 2 trusted witnesses"):
        verify_cosigned_checkpoint(cosigned, [signer.verifier_key], keys, quorum=2)
    # A cosignature copied onto another checkpoint does not count.
    other = _note(_log([b"z"]), 1, signer) + "".join(lines)
    with pytest.raises(VerificationError, match="invalid cosignature"):
        verify_cosigned_checkpoint(other, [signer.verifier_key], keys, quorum=1)
    with pytest.raises(VerificationError, match="more than the 2 witness"):
        verify_cosigned_checkpoint(cosigned, [signer.verifier_key], keys, quorum=3)
    with pytest.raises(VerificationError, match="not a cosignature/v1 key"):
        verify_cosigned_checkpoint(cosigned, [signer.verifier_key], [signer.verifier_key], quorum=1)


def test_add_checkpoint_request_round_trips() -> None:
    proof = [bytes(32), b"\x01" * 32]
    body = format_add_checkpoint(7, proof, "o\n9\nroot\n\n\u2014 o sig\n")
    parsed = parse_add_checkpoint(body)
    assert (parsed.old_size, list(parsed.proof)) == (7, proof)
    assert parsed.note == "o\n9\nroot\n\n\u2014 o sig\n"
    for bad in (b"old x\n\nnote", b"old 1\nnot-a-hash\n\nnote", b"old 1\n", b"\xff"):
        with pytest.raises(InvalidInput):
            parse_add_checkpoint(bad)


def test_an_old_size_beyond_64_bits_is_a_bad_request() -> None:
    """5,000 digits made int() raise ValueError instead of a 400."""
    for digits in ("9" * 5000, str(2**64)):
        with pytest.raises(InvalidInput, match="largest tree size"):
            parse_add_checkpoint(f"old {digits}\n\nnote".encode())
    assert parse_add_checkpoint(f"old {2**64 - 1}\n\nnote".encode()).old_size == 2**64 - 1


def test_a_note_whose_text_holds_a_blank_line_is_not_cosigned(
    witness: Witness, signer: NoteSigner
) -> None:
    # Signed by the log's key over "<checkpoint>\n<extra line>\n": the checkpoint before
    # the blank line was never signed as such, so the witness must not cosign it.
    log = _log([b"a", b"b"])
    checkpoint = make_checkpoint(ORIGIN, 2, log.root(2)).to_text()
    text = checkpoint + "\nextra\n"
    blob = signer.key_hash.to_bytes(4, "big") + signer.sign(text.encode())
    note = f"{text}\n\u2014 {signer.name} {base64.b64encode(blob).decode()}\n"
    with pytest.raises(InvalidInput, match="not a checkpoint"):
        witness.add_checkpoint(old_size=0, proof=[], note=note, now=NOW)
    assert witness.state() == {}  # nothing cosigned, nothing remembered
