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
