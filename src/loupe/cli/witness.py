"""``loupe witness ...``: run a transparency-log witness for someone else's payment log.

A witness is run by a party other than the log's operator (a union, an employer, an
auditor): it cosigns each checkpoint only with a valid consistency proof from the last one
it cosigned, so a rewritten or forked history cannot collect its cosignature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loupe.cli.session import console

__all__ = ["witness_app"]

witness_app = typer.Typer(
    help="Run a witness that cosigns a payment log's checkpoints (C2SP tlog-witness).",
    no_args_is_help=True,
)

WitnessDir = Annotated[Path, typer.Option("--dir", help="The witness's own directory")]


@witness_app.command("init")
def init_command(
    directory: WitnessDir,
    name: Annotated[
        str, typer.Option(help="The witness's key name, e.g. witness.example.org/w1")
    ] = "loupe-witness",
    log_key: Annotated[
        list[str] | None,
        typer.Option(
            "--log-key", help="A log verifier key to witness (`loupe ledger keys`); repeatable"
        ),
    ] = None,
) -> None:
    """Create the witness's key (once) and trust LOG_KEY; print its verifier key."""
    from loupe.ledger.witness import Witness

    witness = Witness.init(directory, name=name, log_keys=log_key or [])
    console.print(f"witness verifier key: {witness.verifier_key}", soft_wrap=True)
    console.print(f"witnessing: {', '.join(sorted(witness.logs)) or '(no log yet)'}")


@witness_app.command("serve")
def serve_command(
    directory: WitnessDir,
    port: Annotated[int, typer.Option(help="TCP port")] = 8700,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
) -> None:
    """Serve POST /add-checkpoint until interrupted."""
    from loupe.ledger.witness import Witness
    from loupe.web.witness import witness_server

    server = witness_server(Witness(directory), host=host, port=port)
    console.print(f"witness listening on http://{host}:{server.server_address[1]}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
