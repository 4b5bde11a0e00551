"""Sending the webhook outbox: claim due deliveries, POST them signed, record the outcome.

At-least-once: a sender *claims* a batch in one short transaction (status
``delivering``, ``attempts`` + 1, due again after its lease: :data:`LEASE`, or longer
when the batch could take longer to send at ``timeout`` each), sends with no
transaction open, then records each outcome in another. A sender that dies between the
two leaves its claims due again when their lease ends, so they are sent again — a
receiver drops duplicates by ``X-Loupe-Delivery``. On PostgreSQL concurrent senders
skip each other's rows (``FOR UPDATE SKIP LOCKED``); on SQLite the writer lock
serialises the claims.

Each request carries::

    X-Loupe-Event: item.completed
    X-Loupe-Delivery: <32 hex digits, the same on every attempt>
    X-Loupe-Timestamp: <Unix seconds of this attempt>
    X-Loupe-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

A 2xx answer delivers; anything else (or no answer within the timeout) is retried after
an exponential back-off with jitter — ``base * 2**(attempts - 1)`` seconds, capped at
:data:`MAX_BACKOFF`, times a random factor in [0.5, 1] — until ``max_attempts``; then
the delivery is ``failed`` (``loupe webhooks redeliver`` queues it again).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.webhook_models import Webhook, WebhookDelivery
from loupe.errors import LoupeError
from loupe.services.egress import PUBLIC_ONLY, EgressPolicy
from loupe.services.projects.webhooks import open_secret, secret_key, webhook_policy
from loupe.settings import Settings

__all__ = [
    "LEASE",
    "MAX_BACKOFF",
    "DeliveryRun",
    "Post",
    "backoff",
    "deliver_all",
    "deliver_due",
    "http_post",
    "lease_for",
    "sign",
]

log = logging.getLogger("loupe.webhooks")

LEASE = timedelta(minutes=5)  # the least a claim lasts; older ones were lost with their sender
MAX_BACKOFF = 3600.0  # seconds
MAX_ERROR = 500
BATCH = 20  # claimed at once: a slow receiver holds up at most this many

# (url, body, headers, timeout) -> HTTP status; raises on no answer.
Post = Callable[[str, bytes, Mapping[str, str], float], int]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``.

    >>> sign("whsec_test", 1700000000, b'{"id":"1"}')[:7]
    'sha256='
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int, *, base: float, rng: random.Random) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, capped, with jitter."""
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    return float(delay * rng.uniform(0.5, 1.0))


def http_post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    *,
    policy: EgressPolicy = PUBLIC_ONLY,
) -> int:
    """POST through :func:`loupe.services.outbound.post`: within ``timeout`` in all (a
    receiver trickling its answer cannot hold the sender), no redirects, and only to
    addresses ``policy`` allows (public ones by default), checked when connecting.

    Only the status counts: the response body is never read, so a receiver cannot make
    the sender hold a large one in memory.
    """
    from loupe.services import outbound  # httpcore: most commands never send a webhook

    return outbound.post(url, body, headers, timeout=timeout, policy=policy).status


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    delivery_id: str
    event: str
    body: str
    attempts: int
    url: str
    project_id: int
    secret_sealed: bytes


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    """What one :func:`deliver_due` pass did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def sent(self) -> int:
        return self.delivered + self.retrying + self.failed


def _due(now: datetime, limit: int) -> Select[Any]:
    return (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status.in_(("pending", "delivering")),
            WebhookDelivery.next_attempt_at <= now,
            Webhook.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )


def lease_for(limit: int, timeout: float) -> timedelta:
    """How long a claim of ``limit`` deliveries lasts: longer than sending them all."""
    return max(LEASE, timedelta(seconds=limit * timeout + 60))


def _claim(db: Database, *, now: datetime, limit: int, lease: timedelta = LEASE) -> list[_Claim]:
    # A read first: an idle outbox costs one indexed query, never the SQLite write lock.
    with db.transaction(readonly=True) as session:
        if session.scalar(_due(now, 1)) is None:
            return []
    with db.transaction() as session:
        due = _due(now, limit)
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(of=WebhookDelivery, skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(
                status="delivering",
                attempts=WebhookDelivery.attempts + 1,
                next_attempt_at=now + lease,
            )
        )
        rows = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.delivery_id,
                WebhookDelivery.event,
                WebhookDelivery.body,
                WebhookDelivery.attempts,
                Webhook.url,
                Webhook.project_id,
                Webhook.secret_sealed,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        ).all()
    return [_Claim(*row) for row in rows]


def _send(
    claim: _Claim, *, key: bytes, post: Post, timeout: float, now: datetime
) -> tuple[int | None, str | None]:
    """(HTTP status, error): the status is ``None`` when no answer came."""
    try:
        secret = open_secret(key, claim.project_id, claim.secret_sealed)
    except LoupeError as exc:
        return None, exc.message
    body = claim.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Loupe-Webhooks/1",
        "X-Loupe-Event": claim.event,
        "X-Loupe-Delivery": claim.delivery_id,
        "X-Loupe-Timestamp": str(timestamp),
        "X-Loupe-Signature": sign(secret, timestamp, body),
    }
    try:
        status = post(claim.url, body, headers, timeout)
    except Exception as exc:  # no answer: refused, timed out, bad TLS... all retried
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


def deliver_due(
    db: Database,
    *,
    key: bytes | Callable[[], bytes],
    max_attempts: int = 8,
    base_delay: float = 10.0,
    timeout: float = 10.0,
    limit: int = BATCH,
    post: Post = http_post,
    rng: random.Random | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryRun:
    """One pass: send every due delivery (at most ``limit``) once; return the tally.

    ``key``: the key that opens webhook secrets, or a function that loads it (called only
    when something is due).
    """
    rng = rng or random.Random()
    claims = _claim(db, now=clock(), limit=limit, lease=lease_for(limit, timeout))
    if not claims:
        return DeliveryRun()
    if callable(key):
        key = key()
    delivered = retrying = failed = 0
    for claim in claims:
        sent_at = clock()
        status, error = _send(claim, key=key, post=post, timeout=timeout, now=sent_at)
        done = clock()
        values: dict[str, object] = {"last_status_code": status}
        if error is None:
            values.update(status="delivered", delivered_at=done, last_error=None)
            delivered += 1
        elif claim.attempts >= max_attempts:
            values.update(status="failed", last_error=error[:MAX_ERROR])
            failed += 1
            log.warning(
                "webhook delivery %s (%s) failed after %d attempts: %s",
                claim.delivery_id, claim.event, claim.attempts, error,
            )  # fmt: skip
        else:
            delay = backoff(claim.attempts, base=base_delay, rng=rng)
            values.update(
                status="pending",
                next_attempt_at=done + timedelta(seconds=delay),
                last_error=error[:MAX_ERROR],
            )
            retrying += 1
        with db.transaction() as session:
            # Never undo a delivery another sender (after this claim's lease) recorded.
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == claim.id, WebhookDelivery.status != "delivered")
                .values(**values)
            )
    return DeliveryRun(delivered=delivered, retrying=retrying, failed=failed)


def deliver_all(db: Database, settings: Settings) -> DeliveryRun:
    """Send every delivery due now once, in batches, with the settings' retry policy."""
    key_dir = settings.resolved_key_dir()
    policy = webhook_policy(settings)

    def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        return http_post(url, body, headers, timeout, policy=policy)

    total = DeliveryRun()
    while True:
        run = deliver_due(
            db,
            key=lambda: secret_key(key_dir),
            max_attempts=settings.webhook_max_attempts,
            base_delay=settings.webhook_retry_base_seconds,
            timeout=settings.webhook_timeout_seconds,
            post=post,
        )
        total = DeliveryRun(
            delivered=total.delivered + run.delivered,
            retrying=total.retrying + run.retrying,
            failed=total.failed + run.failed,
        )
        if run.sent < BATCH:
            return total
