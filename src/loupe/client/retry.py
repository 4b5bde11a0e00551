"""When the SDK sends a request again, and how long it waits first.

>>> policy = RetryPolicy(retries=3, backoff=0.5, jitter=0.0)
>>> [policy.delay(attempt, retry_after=None) for attempt in range(3)]
[0.5, 1.0, 2.0]
>>> policy.delay(0, retry_after=4.0)  # the server's Retry-After wins when longer
4.0
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter, for 429/503 and for broken connections.

    * ``retries``: how many times a request is sent again (0: never).
    * ``backoff``: the first wait in seconds; each retry doubles it, up to ``max_backoff``.
    * ``jitter``: the fraction of each wait drawn at random (0: none, 1: "full jitter"),
      so many clients told to wait do not all come back at once.
    * ``statuses``: the answers worth waiting out; the server changed nothing.
    * ``max_retry_after``: a ``Retry-After`` longer than this is cut to it.

    A broken connection is retried only for idempotent operations (see
    ``loupe.client.operations``): a POST that may have been applied is not sent twice.
    """

    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    statuses: frozenset[int] = frozenset({429, 503})
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("retries, backoff and max_backoff must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, attempt: int, *, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        base = min(self.max_backoff, self.backoff * 2.0**attempt)
        wait = base * (1.0 - self.jitter * self.rng.random())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait
