# ruff: noqa: F811  (the fixtures imported from tests.services.payments.test_witnesses are parameters)
"""`loupe ledger status` shows how far each witness cosigned; `prove` gets the latest
checkpoint cosigned even when it published nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.services.payments.test_witnesses import Labeller, Running, keys, running  # noqa: F401
from typer.testing import CliRunner

from loupe.cli import app
from loupe.db.database import Database
from loupe.services.payments.ledger_keys import LedgerKeys

runner = CliRunner()


def _run(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [*args, "--database-url", database_url],
        env={
            "LOUPE_KEY_DIR": str(tmp_path / "keys"),
            "LOUPE_LEDGER_WITNESSES_FILE": str(tmp_path / "witnesses.conf"),
        },
    )
    return result.exit_code, result.output


def test_status_and_prove_with_witnesses(
    db: Database, database_url: str, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    (tmp_path / "witnesses.conf").write_text(
        "".join(f"{w.witness.verifier_key} {w.url}\n" for w in running)
    )
    code, output = _run(database_url, tmp_path, "ledger", "status")
    assert code == 0, output
    assert "ledger: 0 entries; no checkpoint yet" in output
    assert "witness w1.example: last cosigned 0 entries; behind" in output

    labeller = Labeller(db, keys)
    labeller.label(2)  # signs the checkpoint of size 2; no server runs to cosign it
    code, output = _run(database_url, tmp_path, "ledger", "status")
    assert "latest checkpoint 2 entries" in output
    assert "witness w2.example: last cosigned 0 entries; behind" in output

    proofs = tmp_path / "proofs.json"
    code, output = _run(database_url, tmp_path, "ledger", "prove", "ann", "-o", str(proofs))
    assert code == 0, output
    document = json.loads(proofs.read_text())
    assert document["tree_size"] == 2  # the automatic checkpoint: nothing new published
    assert "\u2014 w1.example " in document["checkpoint"]
    assert "\u2014 w2.example " in document["checkpoint"]
    code, output = _run(database_url, tmp_path, "ledger", "status")
    assert code == 0, output
    for name in ("w1.example", "w2.example"):
        assert f"witness {name}: last cosigned 2 entries; cosigned the latest" in output


def test_status_without_witnesses(database_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ledger", "status", "--database-url", database_url], env={})
    assert result.exit_code == 0, result.output
    assert "witnesses: none configured" in result.output
