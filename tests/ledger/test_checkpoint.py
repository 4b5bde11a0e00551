"""Signed notes and checkpoints: published known answers, tampering, key rotation."""

from __future__ import annotations

import base64

import pytest

from loupe.errors import InvalidInput
from loupe.ledger.checkpoint import (
    NoteSigner,
    generate_key_pair,
    make_checkpoint,
    sign_checkpoint,
    sign_note,
)
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.verify import (
    EMPTY_ROOT,
    Checkpoint,
    NoteVerifier,
    VerificationError,
    open_note,
    verify_checkpoint,
    verify_entry_in_checkpoint,
)

# golang.org/x/mod/sumdb/note package documentation: Ed25519 is deterministic, so signing
# the text with this key must reproduce the published note byte for byte.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)

# A real signed tree head of the Go checksum database (sum.golang.org), a C2SP checkpoint
# in a signed note, with the Go toolchain's built-in verifier key for that log.
SUMDB_VERIFIER_KEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n"
    "\u2014 sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI"
    "8oW9/C8DJ87F61QqspBYwM=\n"
)

ORIGIN = "ledger.example.org/payments"


def test_go_note_known_answer_sign_and_open() -> None:
    signer = NoteSigner.from_key(GO_SIGNER_KEY)
    assert signer.to_key() == GO_SIGNER_KEY
    assert signer.verifier_key == GO_VERIFIER_KEY
    assert f"{signer.key_hash:08x}" == "c74f20a3"
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE

    note = open_note(GO_NOTE.encode("utf-8"), [GO_VERIFIER_KEY])
    assert note.text == GO_TEXT
    assert [(s.name, s.key_hash) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert note.unverified == ()


def test_go_verifier_key_round_trips() -> None:
    verifier = NoteVerifier.from_key(GO_VERIFIER_KEY)
    assert verifier.to_key() == GO_VERIFIER_KEY
    assert NoteVerifier.from_public_key("PeterNeumann", verifier.public_key) == verifier


def test_published_sum_golang_org_checkpoint_verifies() -> None:
    checkpoint = verify_checkpoint(SUMDB_NOTE, [SUMDB_VERIFIER_KEY], origin="go.sum database tree")
    assert checkpoint.size == 31700353
    assert base64.b64encode(checkpoint.root_hash).decode() == (
        "qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs="
    )
    with pytest.raises(VerificationError, match="expected 'loupe'"):
        verify_checkpoint(SUMDB_NOTE, [SUMDB_VERIFIER_KEY], origin="loupe")
    tampered = SUMDB_NOTE.replace("31700353", "31700354")
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_checkpoint(tampered, [SUMDB_VERIFIER_KEY])


def test_checkpoint_round_trip_with_a_log() -> None:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many([b"entry-%d" % i for i in range(21)])
    signer = NoteSigner.generate(ORIGIN)
    checkpoint = make_checkpoint(ORIGIN, log.size(), log.root(), extensions=["ts 1718000000"])
    note = sign_checkpoint(checkpoint, [signer])
    assert note.startswith(
        f"{ORIGIN}\n21\n{base64.b64encode(log.root()).decode()}\nts 1718000000\n\n"
    )
    assert verify_checkpoint(note, [signer.verifier_key], origin=ORIGIN) == checkpoint

    proof = log.prove_inclusion(13)
    got = verify_entry_in_checkpoint(
        b"entry-13", index=13, proof=proof.path, note=note, verifiers=[signer.verifier_key]
    )
    assert got == checkpoint
    with pytest.raises(VerificationError):
        verify_entry_in_checkpoint(
            b"entry-14", index=13, proof=proof.path, note=note, verifiers=[signer.verifier_key]
        )


def _signed(size: int = 5, signers: list[NoteSigner] | None = None) -> tuple[str, NoteSigner]:
    signer = NoteSigner.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, size, EMPTY_ROOT), signers or [signer])
    return note, signer


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda n: n.replace("\n5\n", "\n6\n"), "invalid signature"),
        (lambda n: n.replace("47DEQ", "47DER"), "invalid signature"),
        (lambda n: n.replace(ORIGIN, "ledger.example.org/other", 1), "invalid signature"),
        # A character well inside the signature (the last ones may be padding bits).
        (lambda n: n[:-12] + ("A" if n[-12] != "A" else "B") + n[-11:], "invalid signature"),
        (lambda n: n.replace("\u2014 ", "-- "), "em dash"),
        (lambda n: n.replace("\n\n", "\n"), "blank line"),
        (lambda n: n[:-1], "end with a newline"),
        (lambda n: n.replace("\n5\n", "\n5\r\n"), "control characters"),
        (lambda n: n.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN} !"), "base64"),
        (lambda n: n.replace(f"\u2014 {ORIGIN} ", "\u2014 someone.else "), "no signature by"),
        (lambda n: n + n.split("\n\n")[1] * 100, "at most 100"),
        (lambda n: n.replace("\n5\n", "\n05\n"), "invalid signature"),
    ],
)
def test_tampered_or_malformed_notes_are_rejected(change: object, reason: str) -> None:
    note, signer = _signed()
    verify_checkpoint(note, [signer.verifier_key])
    with pytest.raises(VerificationError, match=reason):
        verify_checkpoint(change(note), [signer.verifier_key])  # type: ignore[operator]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("origin\n5\n", "origin, size and root"),
        ("origin\n-5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "decimal"),
        ("origin\n05\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "decimal"),
        ("origin\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu\n", "base64"),
        ("origin\n5\nAAAA\n", "32 bytes"),
        ("\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "non-empty line"),
    ],
)
def test_malformed_checkpoint_bodies_are_rejected(body: str, reason: str) -> None:
    signer = NoteSigner.generate(ORIGIN)
    note = body + "\n" + sign_note("x\n", [signer]).split("\n\n")[1]  # signature irrelevant
    with pytest.raises(VerificationError, match=reason):
        Checkpoint.from_text(body)
    with pytest.raises(VerificationError):
        verify_checkpoint(note, [signer.verifier_key])


def test_a_bad_signature_by_a_known_key_rejects_even_with_a_good_one() -> None:
    good, bad = NoteSigner.generate(ORIGIN), NoteSigner.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, EMPTY_ROOT), [good, bad])
    head, sigs = note.split("\n\n")
    good_line, bad_line = sigs.splitlines()
    forged_blob = base64.b64decode(bad_line.split()[-1])
    forged_blob = forged_blob[:4] + bytes(64)
    forged = f"{head}\n\n{good_line}\n\u2014 {ORIGIN} {base64.b64encode(forged_blob).decode()}\n"
    verify_checkpoint(forged, [good.verifier_key])  # the forged key is unknown: ignored
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_checkpoint(forged, [good.verifier_key, bad.verifier_key])


def test_key_rotation_keeps_old_checkpoints_verifiable() -> None:
    old = NoteSigner.generate(ORIGIN)
    new = NoteSigner.generate(ORIGIN)
    assert old.key_hash != new.key_hash
    before = sign_checkpoint(Checkpoint(ORIGIN, 10, EMPTY_ROOT), [old])
    during = sign_checkpoint(Checkpoint(ORIGIN, 20, EMPTY_ROOT), [new, old])
    after = sign_checkpoint(Checkpoint(ORIGIN, 30, EMPTY_ROOT), [new])
    trusted = [new.verifier_key, old.verifier_key]

    assert [verify_checkpoint(n, trusted).size for n in (before, during, after)] == [10, 20, 30]
    assert verify_checkpoint(during, [new.verifier_key]).size == 20
    assert verify_checkpoint(during, [old.verifier_key]).size == 20
    with pytest.raises(VerificationError, match="no signature by"):
        verify_checkpoint(before, [new.verifier_key])
    with pytest.raises(VerificationError, match="no signature by"):
        verify_checkpoint(after, [old.verifier_key])

    opened = open_note(during, [new.verifier_key])
    assert [s.key_hash for s in opened.signatures] == [new.key_hash]
    assert [s.key_hash for s in opened.unverified] == [old.key_hash]


def test_generate_key_pair_and_key_string_errors() -> None:
    skey, vkey = generate_key_pair("alice.example")
    assert skey.startswith("PRIVATE+KEY+alice.example+")
    assert NoteSigner.from_key(skey).verifier_key == vkey
    with pytest.raises(InvalidInput, match="PRIVATE\\+KEY"):
        NoteSigner.from_key(vkey)
    with pytest.raises(InvalidInput, match="does not match"):
        NoteSigner.from_key(GO_SIGNER_KEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(InvalidInput, match="key name"):
        NoteSigner.generate("has space")
    with pytest.raises(VerificationError, match="does not match"):
        NoteVerifier.from_key(GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(VerificationError, match="8 hex digits"):
        NoteVerifier.from_key("PeterNeumann+c74f+ARpc")
    with pytest.raises(VerificationError, match="algorithm"):
        NoteVerifier.from_key("x+00000000+AhpjZA==")
    with pytest.raises(VerificationError, match="does not match name and key"):
        NoteVerifier(name="PeterNeumann", key_hash=0, public_key=bytes(32))


def test_signing_rejects_bad_input() -> None:
    signer = NoteSigner.generate(ORIGIN)
    with pytest.raises(InvalidInput, match="newline"):
        sign_note("no newline", [signer])
    with pytest.raises(InvalidInput, match="at least one signer"):
        sign_note("text\n", [])
    with pytest.raises(InvalidInput, match="32 bytes"):
        make_checkpoint(ORIGIN, 1, b"short")
    with pytest.raises(InvalidInput, match="non-empty line"):
        make_checkpoint("two\nlines", 1, EMPTY_ROOT)
