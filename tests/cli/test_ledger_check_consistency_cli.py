"""`loupe ledger check-consistency`: a contributor checks offline that the log only grew
since a checkpoint they saved. The logs here are built in memory and signed with a key of
the test's own (no database, no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loupe.cli import main
from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog

ORIGIN = "ledger.example/payments"
SIGNER = NoteSigner.generate(ORIGIN)


def _log(leaves: list[bytes]) -> MerkleLog:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many(leaves)
    return log


def _files(
    tmp_path: Path, old: MerkleLog, old_size: int, new: MerkleLog, proof_from: MerkleLog
) -> list[str]:
    """The saved note (``old`` at ``old_size``), the current note (``new``), a proof made
    by ``proof_from`` between the two sizes, and the key file: as command arguments."""
    size = new.size()
    saved, current = tmp_path / "saved.note", tmp_path / "current.note"
    saved.write_text(
        sign_checkpoint(make_checkpoint(ORIGIN, old_size, old.root(old_size)), [SIGNER])
    )
    current.write_text(sign_checkpoint(make_checkpoint(ORIGIN, size, new.root()), [SIGNER]))
    proof = tmp_path / "proof.json"
    path = [n.hex() for n in proof_from.consistency_proof(old_size, size)]
    proof.write_text(json.dumps({"first": old_size, "second": size, "path": path}))
    key = tmp_path / "log-key"
    key.write_text(SIGNER.verifier_key + "\n")
    return [str(saved), str(current), str(proof), "--key", str(key)]


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "check-consistency", *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_a_log_that_only_grew_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log([b"a", b"b", b"c", b"d", b"e"])
    code, out, err = _run(capsys, _files(tmp_path, log, 3, log, log))
    assert code == 0, err
    assert f"the log {ORIGIN} only grew: size 3 is a prefix of size 5" in out


def test_a_rewritten_history_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = _log([b"a", b"b", b"c"])
    rewritten = _log([b"a", b"B", b"c", b"d", b"e"])  # entry 1 changed, then more appended
    code, _, err = _run(capsys, _files(tmp_path, saved, 3, rewritten, rewritten))
    assert code == LedgerIntegrityError.exit_code
    assert "the log does not verify" in err and "Traceback" not in err


def test_the_proof_must_be_between_the_checkpoints_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log([b"a", b"b", b"c", b"d", b"e"])
    args = _files(tmp_path, log, 3, log, log)
    proof = Path(args[2])
    proof.write_text(json.dumps({**json.loads(proof.read_text()), "first": 2}))
    code, _, err = _run(capsys, args)
    assert code == LedgerIntegrityError.exit_code
    assert "the proof is from size 2 to 5, the checkpoints are of sizes 3 and 5" in err


def test_a_note_signed_by_another_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log([b"a", b"b", b"c"])
    args = _files(tmp_path, log, 2, log, log)
    Path(args[4]).write_text(NoteSigner.generate(ORIGIN).verifier_key + "\n")
    code, _, err = _run(capsys, args)
    assert code == LedgerIntegrityError.exit_code
    assert "the log does not verify" in err


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"first": "3", "second": 5, "path": []}',
     '{"first": 3, "second": 5, "path": ["zz"]}', '{"first": true, "second": 5, "path": []}'],
)  # fmt: skip
def test_a_malformed_proof_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    log = _log([b"a", b"b", b"c", b"d", b"e"])
    args = _files(tmp_path, log, 3, log, log)
    Path(args[2]).write_text(content)
    code, _, err = _run(capsys, args)
    assert code == InvalidInput.exit_code
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a consistency proof" in lines[0], err


def test_without_a_key_file_nothing_is_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log([b"a", b"b", b"c"])
    args = _files(tmp_path, log, 2, log, log)[:3]
    code, _, err = _run(capsys, args)
    assert code == InvalidInput.exit_code
    assert "--key FILE" in err
