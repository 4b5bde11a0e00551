from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from loupe.errors import InvalidInput
from loupe.reputation import EVIDENCE_KINDS, Evidence

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_valid_evidence() -> None:
    evidence = Evidence(kind="review_check", success=0.5, weight=2.0, at=AT, ref="review:9")
    assert (evidence.kind, evidence.success, evidence.weight) == ("review_check", 0.5, 2.0)
    assert EVIDENCE_KINDS == ("gold", "review_received", "review_check", "consensus")
    other_zone = AT.astimezone(timezone(timedelta(hours=-5)))
    assert Evidence(kind="gold", success=1, at=other_zone, ref="g").at == AT


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"kind": "vibes"}, "evidence kind 'vibes' is unknown; use one of: gold,"),
        ({"success": 1.5}, "success must lie in [0, 1], got 1.5 (gold:item:1)"),
        ({"success": float("nan")}, "success must lie in [0, 1]"),
        ({"weight": 0.0}, "weight must be a finite number > 0, got 0.0"),
        ({"weight": float("inf")}, "weight must be a finite number > 0"),
        ({"at": datetime(2025, 3, 1)}, "time must carry a time zone"),
        ({"ref": ""}, "ref must name its source"),
    ],
)
def test_invalid_evidence_says_what_to_fix(changes: dict[str, Any], fragment: str) -> None:
    fields: dict[str, Any] = {"kind": "gold", "success": 1.0, "at": AT, "ref": "gold:item:1"}
    with pytest.raises(InvalidInput) as info:
        Evidence(**{**fields, **changes})
    assert fragment in info.value.message


def test_evidence_is_frozen() -> None:
    evidence = Evidence(kind="gold", success=1.0, at=AT, ref="g")
    with pytest.raises(AttributeError):
        evidence.success = 0.0  # type: ignore[misc]
