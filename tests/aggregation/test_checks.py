"""The argument checks, plain Python now, accept and reject what the NumPy ones did."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.aggregation.checks import check_positive, check_probability
from loupe.errors import InvalidInput

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 1.0, math.inf, -math.inf, math.nan, 5e-324]
)


def _accepts(check: Callable[..., None], value: float, **options: bool) -> bool:
    try:
        check(value, "x", **options)
    except InvalidInput:
        return False
    return True


@given(ANY_FLOAT, st.booleans())
def test_check_positive_is_the_numpy_rule(value: float, allow_zero: bool) -> None:
    positive = value >= 0.0 if allow_zero else value > 0.0
    expected = bool(positive and np.isfinite(value))
    assert _accepts(check_positive, value, allow_zero=allow_zero) is expected
    assert _accepts(check_positive, np.float64(value), allow_zero=allow_zero) is expected


@given(ANY_FLOAT, st.booleans())
def test_check_probability(value: float, open_interval: bool) -> None:
    expected = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    assert _accepts(check_probability, value, open_interval=open_interval) is expected


def test_the_error_names_the_argument() -> None:
    with pytest.raises(InvalidInput, match="alpha must be > 0"):
        check_positive(0.0, "alpha")
