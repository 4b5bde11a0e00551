"""Argument checks shared by the aggregators and the consensus functions.

Plain Python, so the modules that a submit needs (free text, spans) import no NumPy.
"""

from __future__ import annotations

import math

from loupe.errors import InvalidInput

__all__ = ["check_positive", "check_probability"]


def check_probability(value: float, name: str, *, open_interval: bool = False) -> None:
    """Raise :class:`InvalidInput` unless ``value`` is a probability."""
    ok = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    if not ok:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise InvalidInput(f"{name} must lie in {interval}, got {value!r}", details={name: value})


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    """Raise :class:`InvalidInput` unless ``value`` is positive (or non-negative)."""
    if not (value >= 0.0 if allow_zero else value > 0.0) or not math.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidInput(f"{name} must be {bound}, got {value!r}", details={name: value})
