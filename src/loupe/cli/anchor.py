"""``loupe ledger anchor`` and the ``--anchored`` part of ``loupe ledger verify``.

Both need the ``loupe[anchor]`` extra (web3.py) and the ``LOUPE_ANCHOR_*`` settings; web3
is imported only when they run. See docs/payments.md#anchoring-checkpoints-on-a-chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, err_console, open_database
from loupe.errors import InvalidInput
from loupe.services.payments import anchors
from loupe.settings import Settings

__all__ = ["anchor_command", "check_anchors"]

KeyDir = Annotated[
    Path | None,
    typer.Option(
        "--key-dir", envvar="LOUPE_KEY_DIR", help="Ledger keys (default: next to the database)"
    ),
]


def _settings(database_url: str | None, key_dir: Path | None) -> Settings:
    values: dict[str, Any] = {}
    if database_url:
        values["database_url"] = database_url
    if key_dir:
        values["key_dir"] = key_dir
    return Settings(**values)


def _tx(tx_hash: bytes) -> str:
    return "0x" + tx_hash.hex()


def anchor_command(
    timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for the transaction to be mined")
    ] = 120.0,
    database_url: DatabaseUrl = None,
    key_dir: KeyDir = None,
) -> None:
    """Publish the latest checkpoint's hash on the configured chain (loupe[anchor] extra).

    Sends one transaction once LOUPE_ANCHOR_EVERY checkpoints were published since the last
    anchored one, and records it; only the 32-byte SHA-256 of the checkpoint's signed text
    goes on the chain. Run it from cron after `loupe ledger checkpoint`.
    """
    config = _settings(database_url, key_dir)
    settings = anchors.AnchorSettings.from_settings(config)
    account = anchors.load_account(settings.key_file)
    chain = anchors.connect(settings)
    with open_database(config.database_url) as db:
        outcome = anchors.anchor_due(db, chain, account, every=settings.every, timeout=timeout)
    for anchor in outcome.confirmed:
        console.print(
            f"checkpoint {anchor.checkpoint_id}: anchor {_tx(anchor.tx_hash)} mined in "
            f"block {anchor.block_number}",
            soft_wrap=True,
        )
    for anchor in outcome.pending:
        err_console.print(
            f"[yellow]checkpoint {anchor.checkpoint_id}: anchor {_tx(anchor.tx_hash)} sent, "
            f"not mined after {timeout:g} s[/]; run `loupe ledger anchor` again",
            markup=True,
            soft_wrap=True,
        )
    if outcome.anchored is not None:
        done = outcome.anchored
        console.print(
            f"checkpoint {done.checkpoint_id} anchored on chain {done.chain_id}: "
            f"tx {_tx(done.tx_hash)}, block {done.block_number}, gas {done.gas_used}",
            soft_wrap=True,
        )
    elif not outcome.pending:
        console.print("nothing to anchor: no checkpoint is due (LOUPE_ANCHOR_EVERY)")


def check_anchors(config: Settings, verifier_keys: list[str], sender: str | None) -> list[str]:
    """Verify every recorded anchor against the chain and the log; print and return the
    problems (each naming its checkpoint), or print what was verified."""
    settings = anchors.AnchorSettings.from_settings(config)
    if sender is None:
        if settings.key_file is None:
            raise InvalidInput(
                "give --sender ADDRESS (the operator's published anchoring account) or set "
                "LOUPE_ANCHOR_KEY_FILE",
                details={"field": "sender"},
            )
        sender = anchors.load_account(settings.key_file).address
    chain = anchors.connect(settings)
    with open_database(config.database_url) as db, db.transaction(readonly=True) as session:
        report = anchors.verify_anchors(
            session,
            chain,
            verifier_keys=verifier_keys,
            sender=sender,
            confirmations=settings.confirmations,
        )
    for problem in report.problems:
        err_console.print(f"[red]problem:[/] {escape(problem)}", markup=True, soft_wrap=True)
    if report.problems:
        return report.problems
    for anchor in report.anchors:
        console.print(
            f"checkpoint {anchor.checkpoint_id}: anchored by {_tx(anchor.tx_hash)} in block "
            f"{anchor.block_number}",
            soft_wrap=True,
        )
    console.print(
        f"anchors verified: {len(report.anchors)} on chain {chain.chain_id} from {sender}, "
        f"each at least {settings.confirmations} block(s) deep (head {report.head})",
        soft_wrap=True,
    )
    return []
