from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.factories import add_items, hold_in, make_project, make_rate_card, make_user
from typer.testing import CliRunner

from loupe.cli import app, main
from loupe.db.database import Database
from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger import verify
from loupe.services.labelling.labels import submit_label
from loupe.services.payments.ledger_keys import LedgerConfig, load_keys

runner = CliRunner()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def _cli(database_url: str, key_dir: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(
        app, [*args, "--database-url", database_url], env={"LOUPE_KEY_DIR": str(key_dir)}
    )
    return result.exit_code, result.output, result.exception


def _main(
    capsys: pytest.CaptureFixture[str], database_url: str | None, key_dir: Path, *args: str
) -> tuple[int, str]:
    argv = [*args, "--database-url", database_url] if database_url else list(args)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_KEY_DIR", str(key_dir))
        with pytest.raises(SystemExit) as exited:
            main(argv)
    return int(exited.value.code or 0), capsys.readouterr().err


@pytest.fixture
def paid(database_url: str, key_dir: Path, db: Database) -> Database:
    """``loupe init``, then three earnings of ann and one of bob."""
    code, output, _ = _cli(database_url, key_dir, "init")
    assert code == 0, output
    cfg = LedgerConfig(keys=load_keys(key_dir))
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, overlap=2, members={ann: "annotator", bob: "annotator"})
    add_items(db, project, 3)
    make_rate_card(db, project)
    for person, items in ((ann, 3), (bob, 1)):
        for item in range(1, items + 1):
            with db.transaction() as session:
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, "call", ledger=cfg)
    return db


def test_init_creates_private_keys_once(database_url: str, key_dir: Path) -> None:
    code, output, _ = _cli(database_url, key_dir, "init")
    assert code == 0, output
    keys = load_keys(key_dir)
    assert keys.signer.verifier_key in output.replace("\n", "")
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for name in ("ledger-secret", "ledger-signer"):
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600
    assert _cli(database_url, key_dir, "init")[0] == 0
    again = load_keys(key_dir)
    assert (again.secret, again.verifier_keys) == (keys.secret, keys.verifier_keys)


def test_verify_prove_and_check_offline(
    paid: Database, database_url: str, key_dir: Path, tmp_path: Path
) -> None:
    saved, proofs, key_file = tmp_path / "cp.txt", tmp_path / "proofs.json", tmp_path / "key"
    assert _cli(database_url, key_dir, "ledger", "checkpoint", "--output", str(saved))[0] == 0
    assert saved.read_text().split("\n")[:2] == ["loupe.local/payments", "4"]
    code, output, _ = _cli(database_url, key_dir, "ledger", "verify")
    assert code == 0, output
    assert "ledger verified: 4 entries, 7 nodes, 1 checkpoint(s)" in output
    code, output, _ = _cli(database_url, key_dir, "ledger", "prove", "ann", "--output", str(proofs))
    assert code == 0, output
    document = json.loads(proofs.read_text())
    assert [entry["index"] for entry in document["entries"]] == [0, 1, 2]
    assert document["tree_size"] == 4
    key_file.write_text(load_keys(key_dir).signer.verifier_key + "\n")

    check = runner.invoke(
        app,
        ["ledger", "check-proof", str(proofs), "--checkpoint", str(saved), "--key", str(key_file)],
    )
    assert check.exit_code == 0, check.output
    assert "all 3 entries are in the signed log" in check.output
    assert "balance EUR: 15 (minor units)" in check.output


def test_check_proof_rejects_tampering_and_untrusted_keys(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proofs = tmp_path / "proofs.json"
    assert _cli(database_url, key_dir, "ledger", "prove", "ann", "-o", str(proofs))[0] == 0
    key = str(tmp_path / "log-key")  # keys come only from a file the user supplies
    Path(key).write_text(load_keys(key_dir).signer.verifier_key + "\n")
    document = json.loads(proofs.read_text())
    document["entries"][1]["leaf"] = document["entries"][1]["leaf"].replace(
        '"amount_minor":5', '"amount_minor":50'
    )
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    code, err = _main(capsys, None, key_dir, "ledger", "check-proof", str(forged), "--key", key)
    assert code == LedgerIntegrityError.exit_code
    assert "the proofs do not verify: inclusion proof for index 1" in err
    result = runner.invoke(app, ["ledger", "check-proof", str(proofs)])
    assert isinstance(result.exception, InvalidInput)
    stranger = tmp_path / "stranger-key"
    stranger.write_text("other+01234567+AQ" + "A" * 42 + "=\n")
    result = runner.invoke(app, ["ledger", "check-proof", str(proofs), "--key", str(stranger)])
    assert isinstance(result.exception, LedgerIntegrityError)


_TAMPER = {
    "edited": (
        "UPDATE ledger_entries SET leaf = :leaf WHERE idx = 1",
        "entry 1: its stored leaf hash does not match its bytes",
    ),
    "deleted": ("DELETE FROM ledger_entries WHERE idx = 2", "entries 2..2 are missing (deleted?)"),
    "reordered-node": (
        "UPDATE ledger_nodes SET hash = (SELECT hash FROM ledger_nodes WHERE level = 0 "
        "AND idx = 1) WHERE level = 0 AND idx = 0",
        "node (0, 0) differs from the hash recomputed from entries",
    ),
}


@pytest.mark.parametrize("tamper", sorted(_TAMPER))
def test_verify_reports_tampering_by_position(
    paid: Database,
    database_url: str,
    key_dir: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: str,
) -> None:
    sql, problem = _TAMPER[tamper]
    assert _cli(database_url, key_dir, "ledger", "checkpoint")[0] == 0
    with paid.transaction() as session:
        leaf = session.execute(text("SELECT leaf FROM ledger_entries WHERE idx = 1")).scalar_one()
        edited = bytes(leaf).replace(b'"amount_minor":5', b'"amount_minor":6')
        session.execute(text(sql), {"leaf": edited} if ":leaf" in sql else {})
    code, err = _main(capsys, database_url, key_dir, "ledger", "verify")
    assert code == LedgerIntegrityError.exit_code
    assert problem in err
    assert "the payment log does not verify" in err


def test_verify_names_a_leaf_of_thousands_of_digits_instead_of_crashing(
    paid: Database, database_url: str, key_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's hostile leaf (5,000 digits) used to end ``ledger verify`` in a
    ValueError traceback from int(); it is a problem named by position."""
    with paid.transaction() as session:
        leaf = session.execute(text("SELECT leaf FROM ledger_entries WHERE idx = 1")).scalar_one()
        edited = bytes(leaf).replace(b'"amount_minor":5', b'"amount_minor":' + b"9" * 5000)
        session.execute(
            text("UPDATE ledger_entries SET leaf = :leaf WHERE idx = 1"), {"leaf": edited}
        )
    code, err = _main(capsys, database_url, key_dir, "ledger", "verify")
    assert code == LedgerIntegrityError.exit_code
    assert "entry 1: not a canonical payment entry" in err
    assert "Traceback" not in err


def test_rotate_key_keeps_old_checkpoints_valid(
    paid: Database, database_url: str, key_dir: Path
) -> None:
    old = load_keys(key_dir).signer.verifier_key
    assert _cli(database_url, key_dir, "ledger", "checkpoint")[0] == 0
    code, output, _ = _cli(database_url, key_dir, "ledger", "rotate-key")
    assert code == 0, output
    new = load_keys(key_dir)
    assert new.verifier_keys[0] == old
    assert new.signer.verifier_key != old
    code, output, _ = _cli(database_url, key_dir, "ledger", "verify")
    assert code == 0, output
    assert "2 checkpoint(s)" in output
    code, output, _ = _cli(database_url, key_dir, "ledger", "keys")
    assert output.split() == list(new.verifier_keys)


def test_payouts_create_and_export(
    paid: Database, database_url: str, key_dir: Path, tmp_path: Path
) -> None:
    code, output, _ = _cli(
        database_url, key_dir, "payouts", "create", "--currency", "EUR", "--minimum", "10"
    )
    assert code == 0, output
    assert "payout 1: 1 contributor(s), 15 EUR minor units" in output
    out = tmp_path / "payout.csv"
    assert _cli(database_url, key_dir, "payouts", "export", "1", "-o", str(out))[0] == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("payout_id,entry_index,user_id,username")
    assert lines[1].startswith("1,4,2,ann,ann,")  # user 1 is the admin `loupe init` made
    assert len(lines) == 2
    code, output, error = _cli(
        database_url, key_dir, "payouts", "create", "--currency", "EUR", "--minimum", "10"
    )
    assert code != 0
    assert error is not None


def test_ledger_payouts_export_csv_and_pain001_with_the_sealing_checkpoint(
    paid: Database,
    database_url: str,
    key_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _cli(database_url, key_dir, "payouts", "create", "--currency", "EUR")[0] == 0
    keys = load_keys(key_dir)
    xml_file, csv_file = tmp_path / "payout.xml", tmp_path / "payout.csv"
    for fmt, out in (("pain001", xml_file), ("csv", csv_file)):
        code, output, _ = _cli(
            database_url,
            key_dir,
            "ledger",
            "payouts",
            "export",
            "1",
            "--format",
            fmt,
            "-o",
            str(out),
        )
        assert code == 0, output
        note = Path(f"{out}.checkpoint").read_text()
        assert verify.verify_checkpoint(note, keys.verifier_keys).size == 6
    assert "<Ustrd>Loupe payout 1 entry 4 log size 6 root " in xml_file.read_text()
    assert 'xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"' in xml_file.read_text()
    assert csv_file.read_text().splitlines()[1].startswith("1,4,2,ann,ann,")
    code, output, _ = _cli(
        database_url, key_dir, "ledger", "payouts", "export", "1", "--format", "pdf"
    )
    assert code == 2  # usage error
    with paid.transaction() as session:
        session.execute(text("UPDATE ledger_entries SET user_id = 3 WHERE idx = 4"))
    code, err = _main(capsys, database_url, key_dir, "ledger", "verify")
    assert code == LedgerIntegrityError.exit_code
    assert "entry 4: column user_id disagrees with its leaf" in err
    code, err = _main(
        capsys, database_url, key_dir, "ledger", "payouts", "export", "1", "--format", "csv"
    )
    assert code == LedgerIntegrityError.exit_code
    assert "entry 4" in err
