"""``loupe --help`` and ``import loupe.cli`` stay cheap; the lazy index matches the app."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
import typer.main
from typer.core import TyperGroup

from loupe.cli import app
from loupe.cli.core import COMMANDS, install_hint, load, register

# Modules that cost hundreds of milliseconds or tens of MB to import.
HEAVY = ("scipy", "sklearn", "numpy", "faker", "wordfreq", "fastapi", "sqlalchemy", "uvicorn")


def imported_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_import_loupe_cli_imports_nothing_heavy() -> None:
    assert not imported_after("import loupe.cli") & set(HEAVY)


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "import sys\n"
        "from loupe.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('loupe.cli.')), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert f" {name} " in result.stdout
    assert "loupe.cli.admin" not in result.stderr
    assert not imported_after(code) & set(HEAVY)


def test_a_command_imports_only_its_own_module() -> None:
    loaded = imported_after(
        "import sys\nfrom loupe.cli import main\n"
        "try:\n    main(['users', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'loupe.cli.admin' in sys.modules\n"
        "assert 'loupe.cli.demo' not in sys.modules and 'loupe.cli.simulate' not in sys.modules"
    )
    assert "scipy" not in loaded


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def test_the_index_matches_the_full_registration() -> None:
    full = typer.Typer()
    register(full)
    eager = typer.main.get_group(full)
    assert set(eager.commands) == set(COMMANDS), "add the new command to loupe.cli.core.COMMANDS"
    for name, entry in COMMANDS.items():
        lazy = load(name)
        assert lazy is not None
        real = eager.commands[name]
        assert entry.help == _first_paragraph(real.help), name
        assert type(lazy) is type(real), name
        assert [p.name for p in lazy.params] == [p.name for p in real.params], name
        if isinstance(real, TyperGroup):
            assert isinstance(lazy, TyperGroup)
            assert sorted(lazy.commands) == sorted(real.commands), name


def test_the_app_runs_lazily_loaded_commands() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["users", "--help"])
    assert result.exit_code == 0
    assert "Create a user" in result.output
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_a_missing_dependency_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    from loupe.cli import main

    real = importlib.import_module

    def without_web3(name: str, package: str | None = None) -> object:
        if name == "loupe.cli.ledger":
            raise ModuleNotFoundError("No module named 'web3'", name="web3")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_web3)
    with pytest.raises(SystemExit) as exit_info:
        main(["ledger", "status"])
    assert exit_info.value.code == 10
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "`loupe ledger` needs the Python package 'web3'" in err
    assert "pip install 'loupe[anchor]'" in err


def test_install_hint_names_the_extra_or_the_package() -> None:
    assert install_hint("pyarrow") == "pip install 'loupe[parquet]'"
    assert install_hint("no_such_package") == "pip install no_such_package"
