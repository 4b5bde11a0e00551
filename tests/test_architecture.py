"""Imports flow one way: web, cli -> services -> db and the domain packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "loupe"
DOMAIN = ["aggregation", "selection", "learning", "ledger", "privacy", "reputation"]
FORBIDDEN_IN_DOMAIN = (
    "loupe.web",
    "loupe.cli",
    "loupe.services",
    "loupe.db",
    "fastapi",
    "sqlalchemy",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_know_nothing_of_http_or_sql(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        bad = {name for name in imports_of(path) if name.startswith(FORBIDDEN_IN_DOMAIN)}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_services_do_not_import_the_shells() -> None:
    for path in (SRC / "services").rglob("*.py"):
        bad = {
            n
            for n in imports_of(path)
            if n.startswith(("loupe.web", "loupe.cli", "fastapi", "typer"))
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_ledger_verifier_is_stand_alone() -> None:
    names = imports_of(SRC / "ledger" / "verify.py")
    assert not {n for n in names if n.startswith("loupe")}


def test_import_loupe_is_light() -> None:
    code = "import sys, loupe; print(sorted(m for m in ('fastapi', 'sqlalchemy', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The CLI and the demo are shells: they open transactions and call services, which own
# every query. Allowed from SQLAlchemy: the ``Session`` type and the exceptions; from
# ``loupe.db``: the ``Database`` handle and the ``utcnow`` clock, never a model class.
SHELLS = ["cli", "demo"]
SHELL_IMPORTS = {
    "sqlalchemy.orm": {"Session"},
    "loupe.db.models": {"utcnow"},
}
SHELL_MODULES = ("sqlalchemy.exc", "loupe.db.database")
QUERY_METHODS = {"execute", "scalar", "scalars", "get", "query"}


def shell_violations(path: Path) -> list[str]:
    """Imports of SQLAlchemy's query API or of ORM models, and queries on a ``session``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.startswith(("sqlalchemy", "loupe.db"))
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if module.startswith(SHELL_MODULES) or not module.startswith(
                ("sqlalchemy", "loupe.db")
            ):
                continue
            allowed = SHELL_IMPORTS.get(module, set())
            found += [f"from {module} import {a.name}" for a in node.names if a.name not in allowed]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            found.append(f"line {node.lineno}: session.{node.func.attr}(...)")
    return found


@pytest.mark.parametrize("package", SHELLS)
def test_the_cli_and_the_demo_query_through_services(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        bad = shell_violations(path)
        assert not bad, f"{path.relative_to(SRC)}: {bad}; add a service function instead"


def test_the_shell_rule_catches_queries(tmp_path: Path) -> None:
    shell = tmp_path / "shell.py"
    shell.write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "from loupe.db.models import User, utcnow\n"
        "def f(session):\n"
        "    return session.scalar(select(User.id))\n",
        encoding="utf-8",
    )
    assert shell_violations(shell) == [
        "from sqlalchemy import select",
        "from loupe.db.models import User",
        "line 5: session.scalar(...)",
    ]
