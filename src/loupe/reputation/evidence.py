"""Evidence: one observed outcome of a contributor's work, the only input to a reputation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from loupe.errors import InvalidInput

__all__ = ["EVIDENCE_KINDS", "Evidence", "EvidenceKind"]

EvidenceKind = Literal["gold", "review_received", "review_check", "consensus"]
"""Where an outcome comes from:

* ``gold`` — their answer to a gold item: 1 if right, 0 if wrong (or partial credit, e.g. span
  F1 against the gold spans);
* ``review_received`` — a peer's verdict on their label: 1 accepted, 0 rejected;
* ``review_check`` — their own verdict as a reviewer, checked against gold or an adjudicator:
  accepting a label that gold shows wrong is a 0;
* ``consensus`` — agreement of their label with the item's consensus (1/0, or the posterior
  probability that their answer is the true class under the quality engine's model).
"""

EVIDENCE_KINDS: tuple[EvidenceKind, ...] = get_args(EvidenceKind)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One outcome: a ``success`` in [0, 1] with a ``weight``, observed ``at`` a time.

    ``ref`` names what produced it (``"gold:item:42"``, ``"review:17"``) so that a score can be
    traced back to its inputs.

    >>> from datetime import datetime, timezone
    >>> Evidence(kind="gold", success=1.0, at=datetime(2025, 1, 1, tzinfo=timezone.utc),
    ...          ref="gold:item:42").weight
    1.0
    """

    kind: EvidenceKind
    success: float
    weight: float = 1.0
    at: datetime
    ref: str

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise InvalidInput(
                f"evidence kind {self.kind!r} is unknown; use one of: {', '.join(EVIDENCE_KINDS)}",
                details={"field": "kind", "allowed": list(EVIDENCE_KINDS)},
            )
        if not (isinstance(self.success, int | float) and 0.0 <= self.success <= 1.0):
            raise InvalidInput(
                f"evidence success must lie in [0, 1], got {self.success!r} ({self.ref})",
                details={"field": "success", "ref": self.ref},
            )
        if not (isinstance(self.weight, int | float) and math.isfinite(self.weight)) or (
            self.weight <= 0
        ):
            raise InvalidInput(
                f"evidence weight must be a finite number > 0, got {self.weight!r} ({self.ref})",
                details={"field": "weight", "ref": self.ref},
            )
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput(
                f"evidence time must carry a time zone, got {self.at.isoformat()} ({self.ref})",
                details={"field": "at", "ref": self.ref},
            )
        if not self.ref:
            raise InvalidInput("evidence ref must name its source, e.g. 'gold:item:42'")
