"""The runnable examples in the aggregation docstrings stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import loupe.aggregation

MODULES = sorted(
    f"loupe.aggregation.{info.name}" for info in pkgutil.iter_modules(loupe.aggregation.__path__)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_all_is_sorted_and_complete() -> None:
    names = loupe.aggregation.__all__
    # isort-style, as ruff's RUF022 checks: CONSTANTS, then Classes, then functions.
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(loupe.aggregation, name) for name in names)


def test_registry_names() -> None:
    assert set(loupe.aggregation.AGGREGATORS) == {"mv", "wmv", "ds", "ocds", "glad", "mace"}
    assert loupe.aggregation.DEFAULT_METHOD in loupe.aggregation.AGGREGATORS
