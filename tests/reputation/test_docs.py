"""The runnable examples in the reputation docstrings stay true; the public API is curated."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import loupe.reputation

SUBMODULES = pkgutil.iter_modules(loupe.reputation.__path__)
MODULES = ["loupe.reputation", *sorted(f"loupe.reputation.{info.name}" for info in SUBMODULES)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_all_is_sorted_and_complete() -> None:
    names = loupe.reputation.__all__
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(loupe.reputation, name) for name in names)
