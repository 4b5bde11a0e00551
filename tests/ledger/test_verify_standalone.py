"""verify.py must work when copied out of Loupe: standard library and cryptography only."""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

import loupe.ledger.verify as verify_module

VERIFY_PY = Path(verify_module.__file__)


def test_verify_imports_only_stdlib_and_cryptography() -> None:
    tree = ast.parse(VERIFY_PY.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports in the stand-alone verifier"
            roots.add((node.module or "").split(".")[0])
    outside = {r for r in roots if r not in sys.stdlib_module_names} - {"__future__"}
    assert outside == {"cryptography"}


def test_verify_runs_from_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "loupe_verify_copy.py"
    shutil.copy(VERIFY_PY, copy)
    spec = importlib.util.spec_from_file_location("loupe_verify_copy", copy)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "loupe_verify_copy", module)
    spec.loader.exec_module(module)
    leaf = module.hash_leaf(b"x")
    module.verify_inclusion(leaf, 0, 1, [], leaf)
    note = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n\n"
        "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
        "dngotpRZb6KE6RyyBwJnAM=\n"
    )
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert module.open_note(note, [vkey]).signatures[0].name == "PeterNeumann"


@pytest.mark.parametrize("name", ["verify", "merkle", "checkpoint", "entries"])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"loupe.ledger.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_public_api_is_sorted_and_exists() -> None:
    for name in ["verify", "merkle", "checkpoint", "entries"]:
        module = importlib.import_module(f"loupe.ledger.{name}")
        exported = module.__all__

        # ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical.
        def kind(attr: str) -> tuple[int, str]:
            return (0 if attr.isupper() else 1 if attr[0].isupper() else 2, attr)

        assert exported == sorted(exported, key=kind), name
        assert all(hasattr(module, attr) for attr in exported), name
