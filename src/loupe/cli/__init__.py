"""The ``loupe`` command line: a thin adapter over the services.

Errors map once to exit codes (``LoupeError.exit_code``) with a one-line
message on stderr; no traceback for anything a user can cause.
"""

from __future__ import annotations

import sys

import click
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
        else:
            app.add_typer(target, name=name)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, mapping errors to one-line messages and exit codes."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=argv, standalone_mode=False)
    except LoupeError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", markup=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
