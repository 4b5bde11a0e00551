"""The background cosigning of checkpoints: every ``ledger_cosign_interval_seconds`` the
server asks the configured witnesses to cosign the latest checkpoint
(:func:`loupe.services.payments.witnesses.cosign_latest`).

A checkpoint signed inside a label's transaction (every ``ledger_checkpoint_every``
entries) is picked up here once that transaction committed, so no label ever waits on a
witness. A witness that is down or refuses is logged (``loupe.witnesses``) and asked again
after a back-off that doubles from one interval up to :data:`MAX_BACKOFF`; the others are
asked meanwhile. What each witness last answered is kept in :class:`Cosigner` and shown by
``GET /api/v1/ledger/witnesses``. Several server workers may each run it: a witness asked
twice for the same checkpoint cosigns it again, and only one line per witness is stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.errors import InvalidInput
from loupe.services.payments.witnesses import (
    CosignRound,
    Post,
    WitnessEndpoint,
    cosign_latest,
    http_post,
    load_witnesses,
)
from loupe.settings import Settings
from loupe.web.threads import finish_in_thread

__all__ = ["MAX_BACKOFF", "Cosigner", "WitnessStatus", "cosign_loop", "cosigner_for"]

log = logging.getLogger("loupe.witnesses")

MAX_BACKOFF = 300.0  # seconds between tries of a witness that keeps failing


@dataclass(frozen=True)
class WitnessStatus:
    """What one witness last answered this server worker."""

    name: str
    url: str
    failures: int = 0  # consecutive
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    last_cosigned_at: datetime | None = None
    last_cosigned_size: int | None = None


class Cosigner:
    """Rounds of :func:`cosign_latest` with a back-off per failing witness.

    Example::

        cosigner = Cosigner(db, load_witnesses(path), interval=5.0)
        cosigner.run_once()  # what the background loop does every interval
    """

    def __init__(
        self,
        db: Database,
        witnesses: Sequence[WitnessEndpoint],
        *,
        interval: float,
        post: Post = http_post,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.witnesses = list(witnesses)
        self.interval = interval
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._retry_at: dict[str, float] = {}
        self._status = {w.verifier.name: WitnessStatus(w.verifier.name, w.url) for w in witnesses}

    def statuses(self) -> list[WitnessStatus]:
        with self._lock:
            return list(self._status.values())

    def run_once(self) -> CosignRound:
        """Ask every witness not backing off to cosign the latest checkpoint."""
        now = self._clock()
        waiting = {name for name, at in self._retry_at.items() if at > now}
        done = cosign_latest(self.db, self.witnesses, post=self._post, skip=waiting)
        size = done.checkpoint.size if done.checkpoint else None
        stamp = utcnow()
        with self._lock:
            for outcome in done.outcomes:
                before = self._status[outcome.name]
                if outcome.cosigned:
                    self._retry_at.pop(outcome.name, None)
                    self._status[outcome.name] = replace(
                        before,
                        failures=0,
                        last_error=None,
                        last_attempt_at=stamp,
                        last_cosigned_at=stamp,
                        last_cosigned_size=size,
                    )
                    continue
                failures = before.failures + 1
                delay = min(self.interval * 2 ** (failures - 1), MAX_BACKOFF)
                self._retry_at[outcome.name] = now + delay
                self._status[outcome.name] = replace(
                    before, failures=failures, last_error=outcome.error, last_attempt_at=stamp
                )
                log.warning(
                    "witness %s did not cosign the checkpoint of size %s: %s "
                    "(try %d; next in %.0f s)",
                    outcome.name,
                    size,
                    outcome.error,
                    failures,
                    delay,
                )
        return done


def cosigner_for(db: Database, settings: Settings) -> Cosigner | None:
    """The server's cosigner, or ``None`` when no witness is configured or the loop is off.

    A witnesses file that cannot be read is logged, not fatal: labelling goes on, and
    ``loupe ledger checkpoint`` reports the same error.
    """
    path = settings.ledger_witnesses_file
    if path is None or settings.ledger_cosign_interval_seconds <= 0:
        return None
    try:
        witnesses = load_witnesses(path)
    except InvalidInput as exc:
        log.error("checkpoints will not be cosigned: %s", exc.message)
        return None
    return Cosigner(db, witnesses, interval=settings.ledger_cosign_interval_seconds)


async def cosign_loop(cosigner: Cosigner) -> None:
    while True:
        try:
            await finish_in_thread(cosigner.run_once)
        except Exception:  # keep the loop alive (a database hiccup); the next round retries
            log.exception("background cosigning round failed")
        await asyncio.sleep(cosigner.interval)
