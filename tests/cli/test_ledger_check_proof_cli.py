"""`loupe ledger check-proof` against a dishonest operator's proofs file: entries listed
twice, other people's entries, leaves that are not canonical, and hostile JSON. The log
here is built in memory and signed with a key of the test's own (no database)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from loupe.cli import main
from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog

SECRET = bytes(range(32))
ORIGIN = "ledger.example/payments"
ANN = contributor_pseudonym("ann", secret=SECRET)
BOB = contributor_pseudonym("bob", secret=SECRET)


def _earning(who: str, item: int, amount: int = 5) -> bytes:
    return PaymentEntry(
        kind="earning",
        contributor=who,
        item=item_digest(str(item), secret=SECRET),
        amount_minor=amount,
        currency="EUR",
        rule="label.accepted",
        rate_card_version="p1.v1",
        timestamp=1_718_000_000,
    ).encode()


def _proofs(tmp_path: Path, leaves: list[bytes], listed: list[int]) -> tuple[Path, Path]:
    """A log of ``leaves`` signed by a fresh key; a proofs file listing ``listed``."""
    log = MerkleLog(InMemoryTreeStore())
    log.append_many(leaves)
    signer = NoteSigner.generate(ORIGIN)
    size = log.size()
    document = {
        "format": "loupe-ledger-proofs/1",
        "origin": ORIGIN,
        "tree_size": size,
        "checkpoint": sign_checkpoint(make_checkpoint(ORIGIN, size, log.root()), [signer]),
        "entries": [
            {
                "index": i,
                "leaf": leaves[i].decode("ascii"),
                "proof": [node.hex() for node in log.inclusion_proof(i, size)],
            }
            for i in listed
        ],
    }
    proofs, key = tmp_path / "proofs.json", tmp_path / "log-key"
    proofs.write_text(json.dumps(document))
    key.write_text(signer.verifier_key + "\n")
    return proofs, key


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "check-proof", *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_a_balance_counts_each_entry_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listing ann's one entry three times used to verify and show three times her pay."""
    proofs, key = _proofs(tmp_path, [_earning(ANN, 1), _earning(BOB, 2)], [0, 0, 0])
    code, _, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == LedgerIntegrityError.exit_code
    assert "the proofs do not verify: entry 0 is listed more than once" in err


def test_entries_of_several_contributors_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bob's (real, included) entry added to ann's proofs used to count in her balance."""
    proofs, key = _proofs(tmp_path, [_earning(ANN, 1), _earning(BOB, 2)], [0, 1])
    code, _, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == LedgerIntegrityError.exit_code
    assert "belong to 2 different contributors" in err


def test_contributor_pins_whose_entries_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Proofs of bob's entries alone verify as a log fact, but not as ann's pay."""
    proofs, key = _proofs(tmp_path, [_earning(ANN, 1), _earning(BOB, 2, 40)], [1])
    code, out, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == 0, err
    assert f"contributor {BOB}" in out.replace("\n", "")
    assert "check that this is your pseudonym" in err.replace("\n", " ")
    code, _, err = _check(capsys, str(proofs), "--key", str(key), "--contributor", ANN)
    assert code == LedgerIntegrityError.exit_code
    assert f"the entries are of contributor {BOB}, not of {ANN}" in err.replace("\n", "")
    code, out, _ = _check(capsys, str(proofs), "--key", str(key), "--contributor", BOB)
    assert code == 0
    assert "balance EUR: 40 (minor units)" in out
    code, _, err = _check(capsys, str(proofs), "--key", str(key), "--contributor", "ANN")
    assert code == InvalidInput.exit_code
    assert "64 lowercase hex digits" in err


def test_a_leaf_that_is_not_canonical_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A logged leaf with a duplicate amount key reads as 500 to json.loads (the last one)
    and as 5 to a reader that keeps the first: it is not an entry, whatever its proof."""
    forged = _earning(ANN, 1).replace(b'{"amount_minor":5', b'{"amount_minor":5,"amount_minor":500')
    proofs, key = _proofs(tmp_path, [forged, _earning(ANN, 2)], [0, 1])
    code, _, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == LedgerIntegrityError.exit_code
    assert "entry 0 is not a canonical payment entry" in err
    assert "duplicate key" in err


def _entry(**changes: Any) -> dict[str, Any]:
    return {"index": 0, "leaf": "{}", "proof": [], **changes}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "a JSON object, not list"),
        ({"checkpoint": 5, "tree_size": 1, "entries": []}, "'checkpoint' must be the signed"),
        ({"checkpoint": "x", "tree_size": "1", "entries": []}, "'tree_size' must be an integer"),
        ({"checkpoint": "x", "tree_size": True, "entries": []}, "'tree_size' must be an integer"),
        ({"checkpoint": "x", "tree_size": 1, "entries": 5}, "'entries' must be a list"),
        ({"checkpoint": "x", "tree_size": 1, "entries": ["x"]}, "entries\\[0\\] must be an obj"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(index="0")]}, "'index' must be"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(index=-1)]}, "'index' must be"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(leaf=None)]}, "'leaf' must be"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(leaf="é")]}, "'leaf' must be"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(proof="ab")]}, "'proof' must"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(proof=["zz"])]}, "'proof' must"),
        ({"checkpoint": "x", "tree_size": 1, "entries": [_entry(pending=1)]}, "'pending' must"),
    ],
)
def test_a_malformed_proofs_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Any, reason: str
) -> None:
    """Each used to end in a traceback (AttributeError) or a riddle (``'leaf'``,
    ``tree size 8 but the checkpoint has size 8``)."""
    proofs, key = tmp_path / "proofs.json", tmp_path / "log-key"
    proofs.write_text(json.dumps(document))
    key.write_text(NoteSigner.generate(ORIGIN).verifier_key + "\n")
    code, _, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == InvalidInput.exit_code
    assert "not a proofs file" in err
    assert len(err.strip().splitlines()) <= 2, err  # one message, wrapped at most once
    assert re.search(reason, err.replace("\n", " ")), err


def test_a_pending_reason_is_printed_as_text_not_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server's pending reason was printed as rich markup: '[/bold]' crashed it."""
    proofs, key = _proofs(tmp_path, [_earning(ANN, 1)], [0])
    document = json.loads(proofs.read_text())
    document["entries"].append(
        {"index": 5, "leaf": _earning(ANN, 2).decode(), "proof": [], "pending": "[/bold] later"}
    )
    proofs.write_text(json.dumps(document))
    code, _, err = _check(capsys, str(proofs), "--key", str(key))
    assert code == 0, err
    assert "[/bold] later" in err
