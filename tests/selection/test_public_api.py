from __future__ import annotations

import loupe.learning
import loupe.selection
import loupe.simulation


def test_all_is_unique_and_importable() -> None:
    # Order is ruff's RUF022 (constants, classes, functions), checked by the linter.
    for module in (loupe.selection, loupe.learning, loupe.simulation):
        names = module.__all__
        assert len(set(names)) == len(names), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"
