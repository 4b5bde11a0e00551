"""Run ``loupe`` in-process through its real entry point, as the CLI tests do."""

from __future__ import annotations

import pytest

from loupe.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``loupe ARGV``: its exit status, stdout and stderr."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
