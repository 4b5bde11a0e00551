"""The ``loupe`` command line: a thin adapter over the services.

Errors map once to exit codes (``LoupeError.exit_code``) with a one-line
message on stderr; no traceback for anything a user can cause.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from loupe.errors import LoupeError

__all__ = ["app", "main"]

app = typer.Typer(
    name="loupe",
    help="Loupe: a human-in-the-loop data engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Imported here, not at module top, so `import loupe.cli` stays cheap and the
    # command modules can import `app` from this package.
    from loupe.cli import core

    core.register(app)
    for name, attr, kind in [
        ("aggregate", "aggregate_command", "command"),
        ("simulate", "simulate_command", "command"),
        ("privacy", "privacy_app", "group"),
        ("ledger", "ledger_app", "group"),
        ("ledger", "payouts_app", "payouts"),
    ]:
        try:
            module = __import__(f"loupe.cli.{name}", fromlist=[attr])
        except ModuleNotFoundError as exc:
            if exc.name != f"loupe.cli.{name}":
                raise
            continue
        target = getattr(module, attr)
        if kind == "command":
            app.command(name)(target)
        elif kind == "group":
            app.add_typer(target, name=name)
        else:  # a second group from the same module, named by ``kind``
            app.add_typer(target, name=kind)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, mapping errors to one-line messages and exit codes."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    # Bytes that are not UTF-8 reach argv as lone surrogates, which no database stores.
    for position, arg in enumerate(sys.argv[1:] if argv is None else argv, start=1):
        if any("\ud800" <= char <= "\udfff" for char in arg):
            err.print(
                f"[bold red]error:[/] argument {position} is not valid UTF-8 text; "
                "re-type it or fix your terminal's encoding",
                markup=True,
            )
            sys.exit(2)
    try:
        # Standalone mode: usage errors print a one-line hint and exit 2, Ctrl-C
        # exits 1; our own errors come through to be mapped below.
        app(args=argv, prog_name="loupe")
    except LoupeError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", markup=True)
        sys.exit(exc.exit_code)
