"""``loupe ledger anchor`` and ``loupe ledger verify --anchored`` on the in-process chain."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.factories import add_items, hold_in, make_project, make_rate_card, make_user
from typer.testing import CliRunner

from loupe.cli import app, main
from loupe.db.database import Database
from loupe.errors import LoupeError
from loupe.services.labelling.labels import submit_label
from loupe.services.payments.ledger_keys import LedgerConfig, load_keys

runner = CliRunner()
CHAIN_ID = 1337


@pytest.fixture
def keyed(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    """``loupe init``, two earnings, a checkpoint; returns the environment for the CLI."""
    key_dir = tmp_path / "keys"
    env = {"LOUPE_KEY_DIR": str(key_dir)}
    assert runner.invoke(app, ["init", "--database-url", database_url], env=env).exit_code == 0
    cfg = LedgerConfig(keys=load_keys(key_dir))
    ann = make_user(db, "ann")
    project = make_project(db, overlap=1, members={ann: "annotator"})
    add_items(db, project, 2)
    make_rate_card(db, project)
    for item in (1, 2):
        with db.transaction() as session:
            hold_in(session, ann.id, project, item)
            submit_label(session, ann.actor, project, item, "call", ledger=cfg)
    checkpoint = ["ledger", "checkpoint", "--database-url", database_url]
    assert runner.invoke(app, checkpoint, env=env).exit_code == 0
    return env


@pytest.fixture
def chain_env(keyed: dict[str, str], tmp_path: Path) -> Iterator[tuple[dict[str, str], Any]]:
    """A funded account's key file and a test chain that ``connect`` reaches."""
    pytest.importorskip("web3", reason="anchoring needs the loupe[anchor] extra (web3)")
    pytest.importorskip("pyrevm", reason="the in-process test chain needs pyrevm")
    from eth_account import Account

    from loupe.services.payments import anchors
    from loupe.testing.revm_chain import RevmChain, RevmProvider

    account = Account.create()
    key_file = tmp_path / "anchor-key"
    key_file.write_text(account.key.hex() + "\n")
    key_file.chmod(0o600)
    chain = RevmChain(chain_id=CHAIN_ID, balances={account.address: 10**18})
    real = anchors.connect
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(anchors, "connect", lambda config: real(config, provider=RevmProvider(chain)))
        yield (
            {
                **keyed,
                "LOUPE_ANCHOR_RPC_URL": "http://node.invalid:8545",
                "LOUPE_ANCHOR_CHAIN_ID": str(CHAIN_ID),
                "LOUPE_ANCHOR_KEY_FILE": str(key_file),
                "LOUPE_ANCHOR_CONFIRMATIONS": "2",
            },
            chain,
        )


def _cli(env: dict[str, str], database_url: str, *args: str) -> tuple[int, str]:
    """Exit code and output, a LoupeError mapped as ``loupe.cli.main`` maps it."""
    result = runner.invoke(app, [*args, "--database-url", database_url], env=env)
    if isinstance(result.exception, LoupeError):
        return result.exception.exit_code, result.output + result.exception.message
    return result.exit_code, result.output


def test_anchor_then_verify_anchored(
    chain_env: tuple[dict[str, str], Any], database_url: str, db: Database
) -> None:
    env, chain = chain_env
    code, output = _cli(env, database_url, "ledger", "anchor")
    assert code == 0, output
    assert "checkpoint 1 anchored on chain 1337" in output and "gas 21" in output
    code, output = _cli(env, database_url, "ledger", "verify", "--anchored")
    assert code == 8 and "has 1 confirmation(s), 2 required" in output
    chain.mine()
    code, output = _cli(env, database_url, "ledger", "verify", "--anchored")
    assert code == 0, output
    assert "ledger verified" in output and "anchors verified: 1 on chain 1337" in output
    code, output = _cli(env, database_url, "ledger", "anchor")
    assert code == 0 and "nothing to anchor" in output
    # The log changed after anchoring: the checkpoint is named.
    with db.transaction() as session:
        session.execute(
            text("UPDATE ledger_nodes SET hash = :h WHERE level = 1"), {"h": b"\1" * 32}
        )
    code, output = _cli(env, database_url, "ledger", "verify", "--anchored")
    assert code == 8
    assert "checkpoint 1 (size 2)" in output


def test_verify_anchored_with_a_published_sender(
    chain_env: tuple[dict[str, str], Any], database_url: str
) -> None:
    env, chain = chain_env
    assert _cli(env, database_url, "ledger", "anchor")[0] == 0
    chain.mine()
    auditor = {k: v for k, v in env.items() if k != "LOUPE_ANCHOR_KEY_FILE"}
    code, output = _cli(auditor, database_url, "ledger", "verify", "--anchored")
    assert code == 2 and "--sender" in output
    someone = "0x" + "ab" * 20
    code, output = _cli(
        auditor, database_url, "ledger", "verify", "--anchored", "--sender", someone
    )
    assert code == 8 and "not from the anchoring account" in output


def _main(capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
    return int(exited.value.code or 0), capsys.readouterr().err


def test_without_the_extra_one_line_error(
    keyed: dict[str, str], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**keyed, "LOUPE_ANCHOR_RPC_URL": "http://node.invalid", "LOUPE_ANCHOR_CHAIN_ID": "1"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "web3", None)
        code, err = _main(
            capsys, env, "ledger", "verify", "--anchored", "--sender", "0x" + "ab" * 20,
            "--database-url", database_url,
        )  # fmt: skip
    assert code == 10
    assert "pip install 'loupe[anchor]'" in err and len(err.strip().splitlines()) == 1


def test_unreachable_node_one_line_error(
    keyed: dict[str, str], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("web3", reason="anchoring needs the loupe[anchor] extra (web3)")
    env = {
        **keyed,
        "LOUPE_ANCHOR_RPC_URL": "http://127.0.0.1:9",
        "LOUPE_ANCHOR_CHAIN_ID": "1",
    }
    code, err = _main(
        capsys, env, "ledger", "verify", "--anchored", "--sender", "0x" + "ab" * 20,
        "--database-url", database_url,
    )  # fmt: skip
    assert code == 10 and "cannot reach the chain node at http://127.0.0.1:9" in err


def test_anchoring_needs_its_settings(keyed: dict[str, str], database_url: str) -> None:
    code, output = _cli(keyed, database_url, "ledger", "anchor")
    assert code == 2 and "LOUPE_ANCHOR_RPC_URL" in output
