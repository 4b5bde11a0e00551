"""Projects' webhooks: subscriptions, and events written to their outbox.

A project manager registers a URL for some event types (:data:`EVENTS`). The service
that owns a change calls :func:`emit` in the transaction that makes it: one
``webhook_deliveries`` row per subscribed webhook, committed (or rolled back) with the
change itself — a transactional outbox, so nothing is lost in a restart and nothing is
sent for work that did not commit. :mod:`loupe.services.projects.webhook_delivery` sends them.

Payloads carry ids, event types, timestamps, model versions and, for choice and
pairwise tasks, answer keys: never item text, external ids, subject ids, names or
free-text answers (the receiver is an integration, not a person cleared for them).
``docs/webhooks.md`` lists each event's fields.

Example::

    created = create_webhook(session, actor, project_id, url="https://example.org/hook",
                             events=["item.completed"], key=secret_key(key_dir))
    created.secret  # "whsec_...": shown once; only its sealed form is stored
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.queries.consensus import CONSENSUS_ANSWER
from loupe.db.queries.projects import PROJECT_CONFIG
from loupe.db.queries.webhook_deliveries import QUEUE_DELIVERY
from loupe.db.queries.webhooks import ACTIVE_WEBHOOKS
from loupe.db.raw import Raw
from loupe.db.webhook_models import Webhook, WebhookDelivery
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.compliance.vault import load_master_key
from loupe.services.egress import PUBLIC_ONLY, EgressPolicy, parse_networks
from loupe.settings import Settings

__all__ = [
    "EVENTS",
    "SECRET_KEY_FILE",
    "CreatedWebhook",
    "DeliveryPage",
    "Event",
    "check_events",
    "check_url",
    "consensus_changing",
    "create_webhook",
    "delete_webhook",
    "emit",
    "list_deliveries",
    "list_webhooks",
    "open_secret",
    "payout_made",
    "ping",
    "redeliver",
    "secret_key",
    "set_active",
    "subject_erased",
    "webhook_policy",
]

Event = Literal[
    "item.completed",
    "consensus.changed",
    "escalation.opened",
    "escalation.settled",
    "model.promoted",
    "payout.made",
    "subject.erased",
]
EVENTS: tuple[Event, ...] = get_args(Event)
PING = "ping"  # sent by :func:`ping` only; not subscribable
SECRET_KEY_FILE = "webhook-secrets.key"
MAX_URL = 2000
MAX_PAGE = 200
# Task types whose answers are keys from the label schema, never a person's own words.
_KEYED_ANSWERS = frozenset({"single_choice", "multi_choice", "pairwise"})


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new webhook and its signing secret (the only time the secret is shown)."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """Deliveries, newest first; ``next_before``: pass as ``before`` for the next page."""

    deliveries: list[WebhookDelivery]
    next_before: int | None


# --- secrets -------------------------------------------------------------------------


def secret_key(key_dir: Path) -> bytes:
    """The key that seals webhook secrets (``webhook-secrets.key``, created on first use)."""
    return load_master_key(key_dir, create=True, name=SECRET_KEY_FILE)


def _aad(project_id: int) -> bytes:
    return f"loupe-webhook-secret/{project_id}".encode()


def _seal(key: bytes, project_id: int, secret: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), _aad(project_id))


def open_secret(key: bytes, project_id: int, sealed: bytes) -> str:
    """The signing secret of a webhook of ``project_id``; :class:`Conflict` if ``key``
    is not the one it was sealed under."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plain = AESGCM(key).decrypt(bytes(sealed[:12]), bytes(sealed[12:]), _aad(project_id))
    except InvalidTag:
        raise Conflict(
            f"a webhook secret of project {project_id} does not open with {SECRET_KEY_FILE}: "
            "restore that key file, or delete the webhook and create it again",
            details={"project_id": project_id},
        ) from None
    return plain.decode()


# --- management ----------------------------------------------------------------------


def webhook_policy(settings: Settings) -> EgressPolicy:
    """Where webhooks may go: public addresses, and ``webhook_allowed_networks``."""
    return EgressPolicy(parse_networks(settings.webhook_allowed_networks))


def check_url(url: str, policy: EgressPolicy = PUBLIC_ONLY) -> str:
    """An absolute ``http``/``https`` URL with a host the policy does not refuse outright
    (``localhost``, a non-public literal address); :class:`InvalidInput` otherwise. A
    name is resolved, and its addresses checked, only when a delivery connects."""
    url = url.strip()
    try:
        parts = urlsplit(url) if len(url) <= MAX_URL else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(
            f"url: an absolute http:// or https:// URL of at most {MAX_URL} characters",
            details={"field": "url"},
        )
    if any(char.isspace() for char in url):
        raise InvalidInput("url: must not contain spaces", details={"field": "url"})
    if not policy.allows_host(host):
        raise InvalidInput(
            f"url: {host} is a loopback, private or otherwise non-public address; webhooks "
            "go to public addresses unless the operator allows a network "
            "(LOUPE_WEBHOOK_ALLOWED_NETWORKS)",
            details={"field": "url"},
        )
    return url


def check_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise InvalidInput(
            f"events: one or more of {', '.join(EVENTS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            details={"field": "events"},
        )
    return sorted(set(events))


def create_webhook(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    url: str,
    events: Sequence[str],
    key: bytes,
    policy: EgressPolicy = PUBLIC_ONLY,
    now: datetime | None = None,
) -> CreatedWebhook:
    """Register ``url`` for ``events`` of a project (its managers, admins). Audited.
    ``policy``: where webhooks may go (:func:`webhook_policy`); public addresses only
    by default."""
    authorize_project(session, actor, "projects.update", project_id)
    url = check_url(url, policy)
    chosen = check_events(events)
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(
        project_id=project_id,
        url=url,
        events=chosen,
        secret_sealed=_seal(key, project_id, secret),
        active=True,
        created_by=actor.user_id,
        created_at=now or utcnow(),
    )
    session.add(webhook)
    session.flush()
    # Not the URL: a receiver's URL may carry a token of its own.
    audit_log.record(
        session,
        actor,
        "webhook.create",
        project_id=project_id,
        target=f"webhook:{webhook.id}",
        details={"events": chosen},
        now=now,
    )
    return CreatedWebhook(webhook, secret)


def list_webhooks(session: Session, actor: Actor, project_id: int) -> list[Webhook]:
    authorize_project(session, actor, "projects.update", project_id)
    return list(
        session.scalars(
            select(Webhook).where(Webhook.project_id == project_id).order_by(Webhook.id)
        )
    )


def _webhook(session: Session, actor: Actor, project_id: int, webhook_id: int) -> Webhook:
    authorize_project(session, actor, "projects.update", project_id)
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.project_id != project_id:
        raise NotFound(
            f"webhook {webhook_id} does not exist in project {project_id}",
            details={"webhook_id": webhook_id},
        )
    return webhook


def delete_webhook(session: Session, actor: Actor, project_id: int, webhook_id: int) -> None:
    """Delete a webhook and its delivery log. Audited."""
    webhook = _webhook(session, actor, project_id, webhook_id)
    session.delete(webhook)
    session.flush()
    audit_log.record(
        session, actor, "webhook.delete", project_id=project_id, target=f"webhook:{webhook_id}"
    )


def set_active(
    session: Session, actor: Actor, project_id: int, webhook_id: int, *, active: bool
) -> Webhook:
    """Pause (``False``) or resume a webhook; a paused one keeps its events queued."""
    webhook = _webhook(session, actor, project_id, webhook_id)
    webhook.active = active
    session.flush()
    return webhook


def ping(
    session: Session, actor: Actor, project_id: int, webhook_id: int, *, now: datetime | None = None
) -> WebhookDelivery:
    """Queue a ``ping`` event for one webhook (to test the receiver)."""
    webhook = _webhook(session, actor, project_id, webhook_id)
    now = now or utcnow()
    event_id = secrets.token_hex(16)
    body = _body(event_id, PING, project_id, {"webhook_id": webhook.id}, now)
    delivery = _delivery(webhook.id, event_id, PING, body, now)
    session.add(delivery)
    session.flush()
    return delivery


def list_deliveries(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    webhook_id: int | None = None,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """A project's delivery log, newest first, ``limit`` (at most 200) at a time."""
    if webhook_id is not None:
        _webhook(session, actor, project_id, webhook_id)
    else:
        authorize_project(session, actor, "projects.update", project_id)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: 1 to {MAX_PAGE}", details={"field": "limit"})
    query = (
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(Webhook.project_id == project_id)
    )
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return DeliveryPage(rows, rows[-1].id if more else None)


def redeliver(
    session: Session,
    actor: Actor,
    project_id: int,
    delivery_id: str,
    *,
    now: datetime | None = None,
) -> WebhookDelivery:
    """Queue an event again for its webhook: a new delivery (new id) with the same body."""
    authorize_project(session, actor, "projects.update", project_id)
    original = session.scalar(
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.delivery_id == delivery_id, Webhook.project_id == project_id)
    )
    if original is None:
        raise NotFound(
            f"delivery {delivery_id} does not exist in project {project_id}",
            details={"delivery_id": delivery_id},
        )
    now = now or utcnow()
    again = _delivery(original.webhook_id, original.event_id, original.event, original.body, now)
    session.add(again)
    session.flush()
    return again


# --- events --------------------------------------------------------------------------


def _body(
    event_id: str, event: str, project_id: int, data: Mapping[str, Any], now: datetime
) -> str:
    document = {
        "id": event_id,
        "type": event,
        "created_at": now.isoformat(timespec="microseconds"),
        "project_id": project_id,
        "data": dict(data),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _delivery(
    webhook_id: int, event_id: str, event: str, body: str, now: datetime
) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=secrets.token_hex(16),
        event_id=event_id,
        webhook_id=webhook_id,
        event=event,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _raw(target: Session | Raw) -> Raw:
    return target if isinstance(target, Raw) else Raw(target)


_NO_ANSWER = object()


def emit(
    target: Session | Raw,
    project_id: int,
    event: Event,
    data: Mapping[str, Any],
    *,
    answer: Any = _NO_ANSWER,
    now: datetime | None = None,
) -> int:
    """Queue ``event`` for every active webhook of the project subscribed to it, in the
    caller's transaction; return how many deliveries were queued.

    ``answer``: added to ``data`` as ``answer`` only for choice and pairwise tasks.
    Costs one indexed query when the project has no webhook.
    """
    raw = _raw(target)
    return _queue(raw, project_id, event, _subscribed(raw, project_id, event), data, answer, now)


def _subscribed(raw: Raw, project_id: int, event: str) -> list[int]:
    """The active webhooks of the project that receive ``event`` (read once per ``raw``:
    a submit that completes an item and changes its consensus emits twice)."""
    key = ("webhooks", project_id)
    hooks: list[tuple[int, list[str]]] | None = raw.remembered.get(key)
    if hooks is None:
        rows = raw.all(ACTIVE_WEBHOOKS, project=project_id, true=True)
        hooks = raw.remembered[key] = [(int(h.id), raw.json_out(h.events)) for h in rows]
    return [hook for hook, events in hooks if event in events]


def _queue(
    raw: Raw,
    project_id: int,
    event: str,
    hooks: Sequence[int],
    data: Mapping[str, Any],
    answer: Any,
    now: datetime | None,
) -> int:
    if not hooks:
        return 0
    payload = dict(data)
    if answer is not _NO_ANSWER:
        project = raw.one(PROJECT_CONFIG, project=project_id)
        task = raw.json_out(project.config).get("task", {}) if project else {}
        if task.get("type") in _KEYED_ANSWERS:
            payload["answer"] = answer
    now = now or utcnow()
    event_id = secrets.token_hex(16)
    body = _body(event_id, event, project_id, payload, now)
    for webhook_id in hooks:
        raw.run(
            QUEUE_DELIVERY,
            delivery=secrets.token_hex(16),
            event_id=event_id,
            webhook=webhook_id,
            event=event,
            body=body,
            now=raw.time(now),
        )
    return len(hooks)


def consensus_changing(
    raw: Raw,
    *,
    project_id: int,
    item_id: int,
    answer: Any,
    confidence: float,
    method: str,
    now: datetime,
) -> None:
    """Before an item's consensus is written: ``consensus.changed`` if its answer is new
    or differs from the stored one (a change of confidence alone is not an event)."""
    hooks = _subscribed(raw, project_id, "consensus.changed")
    if not hooks:
        return
    old = raw.one(CONSENSUS_ANSWER, item=item_id)
    if old is not None and raw.json_out(old.answer) == answer:
        return
    data = {"item_id": item_id, "confidence": round(float(confidence), 6), "method": method}
    _queue(raw, project_id, "consensus.changed", hooks, data, answer, now)


def payout_made(
    session: Session, *, payout_id: int, currency: str, user_ids: Sequence[int], now: datetime
) -> None:
    """``payout.made`` to each project whose contributors the payout paid, with how many
    of them it paid (never amounts: a balance spans projects)."""
    from loupe.db.ledger_models import LedgerEntry

    subscribed = {
        int(project)
        for project, events in session.execute(
            select(Webhook.project_id, Webhook.events).where(Webhook.active.is_(True))
        )
        if "payout.made" in events
    }
    if not subscribed or not user_ids:
        return
    counts = session.execute(
        select(LedgerEntry.project_id, func.count(func.distinct(LedgerEntry.user_id)))
        .where(
            LedgerEntry.project_id.in_(sorted(subscribed)),
            LedgerEntry.user_id.in_(list(user_ids)),
        )
        .group_by(LedgerEntry.project_id)
    ).all()
    for project_id, paid in counts:
        if project_id is None:
            continue
        emit(
            session,
            int(project_id),
            "payout.made",
            {"payout_id": payout_id, "currency": currency, "contributors_paid": int(paid)},
            now=now,
        )


def subject_erased(
    session: Session, items: Sequence[tuple[int, int]], *, receipt_sha256: str, now: datetime
) -> None:
    """``subject.erased`` to each project that held erased items ((item id, project id)
    pairs): their ids and the receipt's hash, never the subject or its reference."""
    by_project: dict[int, list[int]] = {}
    for item_id, project_id in items:
        by_project.setdefault(int(project_id), []).append(int(item_id))
    for project_id, item_ids in sorted(by_project.items()):
        emit(
            session,
            project_id,
            "subject.erased",
            {"item_ids": sorted(item_ids), "receipt_sha256": receipt_sha256},
            now=now,
        )
