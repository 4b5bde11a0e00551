from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import loupe.learning

MODULES = sorted(m.name for m in pkgutil.iter_modules(loupe.learning.__path__, "loupe.learning."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
