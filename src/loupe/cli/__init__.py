"""The ``loupe`` command line: a thin adapter over the services.

Errors map once to exit codes (``LoupeError.exit_code``) with a one-line
message on stderr; no traceback for anything a user can cause.
"""

from __future__ import annotations

import errno
import sys

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

from loupe.cli.core import COMMANDS, load
from loupe.errors import LoupeError

__all__ = ["app", "main"]


class _LazyGroup(TyperGroup):
    """The top-level group: lists commands from the index, imports one when it runs.

    ``loupe --help`` therefore imports no command module (nor SQLAlchemy, SciPy,
    FastAPI...), and ``loupe users list`` imports only ``loupe.cli.admin``.
    """

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        # A stand-in carrying the help line, for listings; running resolves the real one.
        return None if entry is None else TyperCommand(cmd_name, help=entry.help)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, name: str) -> None:
        if name not in self.commands and (command := load(name)) is not None:
            self.commands[name] = command

    def load_all(self) -> None:
        """Import every command (the CLI reference walks them all)."""
        for name in COMMANDS:
            self.load(name)


app = typer.Typer(
    name="loupe",
    help="Loupe: a human-in-the-loop data engine.",
    cls=_LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    # A group needs a callback or a registered command; the commands load lazily.
    pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, mapping errors to one-line messages and exit codes."""
    from rich.console import Console
    from rich.markup import escape  # messages may hold brackets: `pip install 'loupe[anchor]'`

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
        err.print(f"[bold red]error:[/] {escape(_shown(exc.message))}", markup=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        mapped = _unavailable(exc) or _file_error(exc)
        if mapped is None:
            raise
        err.print(f"[bold red]error:[/] {escape(_shown(mapped.message))}", markup=True)
        sys.exit(mapped.exit_code)


def _shown(message: str) -> str:
    """An error message as printed: any identifier it echoes (a shifted CSV column's
    e-mail address, a name typed as an answer) replaced by its placeholder, since stderr
    ends up in terminals' scrollback and cron or CI logs (:mod:`loupe.privacy.messages`)."""
    from loupe.privacy.messages import redact_message

    return redact_message(message)


# A file the system cannot write for want of room, or on a read-only filesystem: not the
# user's input but the machine's state (the database's own such errors are mapped above).
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _file_error(exc: Exception) -> LoupeError | None:
    """A file the user named that cannot be read or written, as ``InvalidInput`` naming it.

    Commands open the paths given as arguments and options (an import file, ``--output``,
    ``--guidelines``...); a missing file, a folder, a denied permission or bytes that are
    not UTF-8 text are the user's to fix, whichever command met them.
    """
    from loupe.errors import InvalidInput, Unavailable

    if isinstance(exc, UnicodeDecodeError):
        return InvalidInput(
            f"the input is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); re-encode the file as UTF-8"
        )
    if not isinstance(exc, OSError) or exc.filename is None:
        return None
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _NO_ROOM:
        return Unavailable(
            f"{exc.filename}: cannot be written ({reason}); free space or pick another path"
        )
    return InvalidInput(f"{exc.filename}: {reason}; check the path and its permissions")


def _unavailable(exc: Exception) -> LoupeError | None:
    """A database that cannot take work now (locked, read-only, down) as ``Unavailable``;
    a unique constraint that refused a concurrent write as ``Conflict``."""
    if "sqlalchemy" not in sys.modules:  # then it cannot be a database error
        return None
    from sqlalchemy.exc import DBAPIError

    from loupe.db.database import is_unavailable, is_unique_violation, redacted
    from loupe.errors import Conflict, Unavailable

    if isinstance(exc, DBAPIError) and is_unique_violation(exc):
        return Conflict(
            "another command or request created the same record at the same moment; run it again"
        )
    if not isinstance(exc, DBAPIError) or not is_unavailable(exc):
        return None
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else redacted(exc)
    return Unavailable(f"the database cannot take this write now ({reason}); retry shortly")
