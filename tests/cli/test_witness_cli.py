# ruff: noqa: F811  (the fixtures imported from test_ledger_cli are parameters here)
"""End to end: witnesses cosign the log's checkpoints; `check-proof` needs a quorum of them.

Keys come only from files the contributor supplies. Witnesses run in-process on loopback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.cli.test_ledger_cli import _cli, key_dir, paid  # noqa: F401 (fixtures)
from tests.factories import hold_in
from typer.testing import CliRunner

from loupe.cli import app
from loupe.db.database import Database
from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.payments.ledger_keys import LedgerConfig, load_keys
from loupe.services.payments.ledger_store import latest_checkpoint
from loupe.services.payments.witnesses import load_witnesses
from loupe.web.witness import witness_server

runner = CliRunner()


class Running:
    def __init__(self, witness: Witness) -> None:
        self.witness = witness
        self.server: ThreadingHTTPServer = witness_server(witness, host="127.0.0.1", port=0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()


@pytest.fixture
def witnesses(paid: Database, key_dir: Path, tmp_path: Path) -> Iterator[list[Running]]:
    log_key = load_keys(key_dir).signer.verifier_key
    running = [
        Running(Witness.init(tmp_path / f"w{n}", name=f"witness{n}.example", log_keys=[log_key]))
        for n in (1, 2)
    ]
    yield running
    for item in running:
        item.stop()


def _files(tmp_path: Path, key_dir: Path, running: list[Running]) -> tuple[Path, Path, Path]:
    config = tmp_path / "witnesses.conf"  # the log operator's: keys and URLs
    config.write_text("".join(f"{w.witness.verifier_key} {w.url}\n" for w in running))
    mine = tmp_path / "my-witnesses"  # the contributor's own choice of witness keys
    mine.write_text(
        "# witnesses I trust\n" + "".join(f"{w.witness.verifier_key}\n" for w in running)
    )
    log_key = tmp_path / "log-key"
    log_key.write_text(load_keys(key_dir).signer.verifier_key + "\n")
    return config, mine, log_key


def _run(database_url: str, key_dir: Path, config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [*args, "--database-url", database_url],
        env={"LOUPE_KEY_DIR": str(key_dir), "LOUPE_LEDGER_WITNESSES_FILE": str(config)},
    )
    return result.exit_code, result.output


def _check(*args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, ["ledger", "check-proof", *args])
    return result.exit_code, result.output, result.exception


def _grow(db: Database, key_dir: Path) -> None:
    """One more earning: bob labels the next item he has not labelled."""
    with db.transaction() as session:
        bob = session.execute(text("SELECT id FROM users WHERE username = 'bob'")).scalar_one()
        project = session.execute(text("SELECT min(id) FROM projects")).scalar_one()
        item = session.execute(
            text(
                "SELECT min(id) FROM items WHERE id NOT IN "
                "(SELECT item_id FROM labels WHERE user_id = :u)"
            ),
            {"u": bob},
        ).scalar_one()
        hold_in(session, bob, project, item)
        actor = Actor(user_id=bob, username="bob", role="annotator")
        submit_label(session, actor, project, item, "call", ledger=LedgerConfig(load_keys(key_dir)))


def test_witnesses_cosign_growth_and_check_proof_needs_the_quorum(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
    witnesses: list[Running],
) -> None:
    config, mine, log_key = _files(tmp_path, key_dir, witnesses)
    code, note = _run(database_url, key_dir, config, "ledger", "checkpoint")
    assert code == 0, note
    assert note.count("\u2014 witness1.example ") == 1 and "\u2014 witness2.example " in note
    assert [w.witness.state()["loupe.local/payments"].size for w in witnesses] == [4, 4]

    # The log grows; the next checkpoint is cosigned with a consistency proof from size 4.
    proofs = tmp_path / "proofs.json"
    _grow(paid, key_dir)
    code, output = _run(database_url, key_dir, config, "ledger", "prove", "ann", "-o", str(proofs))
    assert code == 0, output
    document = json.loads(proofs.read_text())
    assert document["tree_size"] == 5
    assert [w.witness.state()["loupe.local/payments"].size for w in witnesses] == [5, 5]

    code, output, _ = _check(
        str(proofs), "--key", str(log_key), "--witnesses", str(mine), "--quorum", "2"
    )
    assert code == 0, output
    assert "cosigned by 2 trusted witness(es): witness1.example, witness2.example" in output
    assert "all 3 entries are in the signed log" in output

    # One witness is down: the next checkpoint has 1 cosignature, fewer than a quorum of 2,
    # so the proofs are against the newest both cosigned and ann's new entry is pending.
    witnesses[1].stop()
    _grow(paid, key_dir)
    code, output = _run(database_url, key_dir, config, "ledger", "prove", "ann", "-o", str(proofs))
    assert code == 0, output
    assert "witness witness2.example: no cosignature" in output
    assert json.loads(proofs.read_text())["tree_size"] == 5
    code, output, _ = _check(
        str(proofs), "--key", str(log_key), "--witnesses", str(mine), "--quorum", "2"
    )
    assert code == 0, output
    assert "all 3 entries are in the signed log" in output
    # bob's entry 5 (index) came after the checkpoint both witnesses cosigned.
    bobs = tmp_path / "bob.json"
    code, output = _run(database_url, key_dir, config, "ledger", "prove", "bob", "-o", str(bobs))
    assert code == 0, output
    document = json.loads(bobs.read_text())
    assert document["tree_size"] == 5
    assert document["entries"][-1]["index"] == 5
    assert document["entries"][-1]["pending"] == "not yet covered by a witnessed checkpoint"
    code, output, _ = _check(
        str(bobs), "--key", str(log_key), "--witnesses", str(mine), "--quorum", "2"
    )
    assert code == 0, output
    assert "1 entries pending" in output
    # The latest checkpoint itself fails a quorum of 2.
    latest = tmp_path / "latest.txt"
    with paid.transaction(readonly=True) as session:
        record = latest_checkpoint(session)
        assert record is not None and record.size == 6
        latest.write_text(record.note)
    code, output, exc = _check(
        str(proofs),
        "--checkpoint",
        str(latest),
        "--key",
        str(log_key),
        "--witnesses",
        str(mine),
        "--quorum",
        "2",
    )
    assert isinstance(exc, LedgerIntegrityError)
    assert "only 1 of the 2 trusted witnesses" in exc.message
    assert _check(str(proofs), "--key", str(log_key), "--witnesses", str(mine))[0] == 0


def test_rewritten_history_fails_with_keys_from_the_users_files(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
    witnesses: list[Running],
) -> None:
    config, mine, log_key = _files(tmp_path, key_dir, witnesses)
    proofs = tmp_path / "proofs.json"
    code, output = _run(database_url, key_dir, config, "ledger", "prove", "ann", "-o", str(proofs))
    assert code == 0, output
    assert _check(str(proofs), "--key", str(log_key), "--witnesses", str(mine))[0] == 0

    # The operator rewrites ann's second earning (5 -> 50) and rebuilds the tree.
    with paid.transaction(readonly=True) as session:
        leaves = [
            bytes(row[0])
            for row in session.execute(text("SELECT leaf FROM ledger_entries ORDER BY idx"))
        ]
    leaves[1] = leaves[1].replace(b'"amount_minor":5', b'"amount_minor":50')
    forged_log = MerkleLog(InMemoryTreeStore())
    forged_log.append_many(leaves)
    size = len(leaves)
    checkpoint = make_checkpoint("loupe.local/payments", size, forged_log.root(size))
    document = json.loads(proofs.read_text())
    for entry in document["entries"]:
        entry["leaf"] = leaves[entry["index"]].decode("ascii")
        entry["proof"] = [h.hex() for h in forged_log.prove_inclusion(entry["index"], size).path]

    # 1. Re-signed with a new log key (which the server would also present): refused,
    # because the contributor's key file holds the old key.
    new_key = NoteSigner.generate("loupe.local/payments")
    document["checkpoint"] = sign_checkpoint(checkpoint, [new_key])
    (tmp_path / "forged.json").write_text(json.dumps(document))
    document["verifier_keys"] = [new_key.verifier_key]
    code, _, exc = _check(str(tmp_path / "forged.json"), "--key", str(log_key))
    assert isinstance(exc, LedgerIntegrityError)
    assert "no signature by any of the given keys" in exc.message
    # The witnesses refuse a checkpoint signed by a key they do not trust for the log.
    assert witnesses[0].witness.state()["loupe.local/payments"].size == 4

    # 2. Re-signed with the real (stolen) key: the witnesses refuse to cosign it, so it
    # never reaches a quorum.
    real = load_keys(key_dir).signer
    note = sign_checkpoint(checkpoint, [real])
    for running in witnesses:
        with pytest.raises((InvalidInput, LedgerIntegrityError)):
            running.witness.add_checkpoint(old_size=4, proof=[], note=note)
    document["checkpoint"] = note
    (tmp_path / "forged.json").write_text(json.dumps(document))
    code, _, exc = _check(
        str(tmp_path / "forged.json"), "--key", str(log_key), "--witnesses", str(mine)
    )
    assert isinstance(exc, LedgerIntegrityError)
    assert "only 0 of the 2 trusted witnesses" in exc.message
    # Without witnesses the same forgery passes: that is why the quorum matters.
    assert _check(str(tmp_path / "forged.json"), "--key", str(log_key))[0] == 0


def test_check_proof_takes_keys_only_from_files(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
) -> None:
    proofs = tmp_path / "proofs.json"
    assert _cli(database_url, key_dir, "ledger", "prove", "ann", "-o", str(proofs))[0] == 0
    literal = load_keys(key_dir).signer.verifier_key
    _code, _, exc = _check(str(proofs), "--key", literal)
    assert isinstance(exc, InvalidInput) and "cannot read the key file" in exc.message
    log_key = tmp_path / "log-key"
    log_key.write_text(literal + "\n")
    empty = tmp_path / "none"
    empty.write_text("# nobody\n")
    _code, _, exc = _check(str(proofs), "--key", str(log_key), "--witnesses", str(empty))
    assert isinstance(exc, InvalidInput)
    _code, _, exc = _check(str(proofs), "--key", str(log_key), "--quorum", "1")
    assert isinstance(exc, InvalidInput) and "--quorum 1 needs" in exc.message


def test_unreachable_witness_does_not_block_publishing(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
) -> None:
    signer = load_keys(key_dir).signer
    down = Witness.init(tmp_path / "w", name="down", log_keys=[signer.verifier_key])
    config = tmp_path / "witnesses.conf"
    config.write_text(f"{down.verifier_key} http://127.0.0.1:9\n")
    code, output = _run(database_url, key_dir, config, "ledger", "checkpoint")
    assert code == 0, output
    assert "witness down: no cosignature (unreachable" in output
    with paid.transaction(readonly=True) as session:
        record_note = session.execute(text("SELECT note FROM ledger_checkpoints")).scalar_one()
    assert "\u2014 down " not in record_note
    assert load_witnesses(config)[0].verifier == down.signer.verifier
