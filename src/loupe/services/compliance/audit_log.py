"""The audit log: append-only, hash-chained, queryable by auditors.

Each event stores ``hash = sha256(prev_hash || canonical row)`` where the canonical
row is sorted-key compact JSON of every column but the hashes; the first event's
``prev_hash`` is 64 zeros. ``audit_head`` holds the last ``(seq, hash)``: an append
locks it (``FOR UPDATE`` on PostgreSQL; SQLite writers are serialised already), so
the chain never forks. :func:`verify` recomputes the chain and names the first
position where it breaks: an edited row, a removed row (a gap in ``seq``) or a
truncated tail (the head no longer matches).

Recorded: reveals, exports, erasures, retention purges, clearance grants and
revocations, privacy settings, and — through :func:`watch_permission_changes`, a
flush hook — new users and role changes, memberships and their roles, and API
token issue and revocation. Token *use* is not recorded (it is every request).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import InstanceState, Session

from loupe.db.models import ApiToken, Membership, User, utcnow
from loupe.db.privacy_models import AuditEvent, AuditHead
from loupe.services.access import Actor, authorize

__all__ = [
    "GENESIS",
    "AuditCheck",
    "canonical",
    "list_events",
    "record",
    "record_separately",
    "verify",
    "watch_permission_changes",
]

GENESIS = "0" * 64
ACTOR_KEY = "loupe.actor"  # session.info key: who the flush hook attributes changes to


def canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    project_id: int | None,
    target: str,
    details: dict[str, Any],
) -> bytes:
    """The bytes an event's hash covers (everything but the hashes themselves)."""
    row = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "project_id": project_id,
        "target": target,
        "details": details,
    }
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _chain(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def _head(session: Session) -> tuple[int, str]:
    query = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    row = session.execute(query).first()
    if row is None:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS))
        row = session.execute(query).one()
    return int(row.seq), str(row.hash)


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    project_id: int | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Append an event in the caller's transaction; returns its ``seq``.

    ``details`` must be JSON of strings, integers, booleans and lists (no floats),
    so that it reads back byte-identical on both backends.
    """
    seq, prev = _head(session)
    seq += 1
    at = (now or utcnow()).astimezone(UTC)
    body = details or {}
    actor_id = actor.user_id if actor else None
    name = actor.username if actor else "unattributed"
    digest = _chain(
        prev,
        canonical(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor=name,
            action=action,
            project_id=project_id,
            target=target,
            details=body,
        ),
    )
    session.execute(
        insert(AuditEvent).values(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor=name,
            action=action,
            project_id=project_id,
            target=target,
            details=body,
            prev_hash=prev,
            hash=digest,
        )
    )
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest))
    return seq


def record_separately(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    project_id: int | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Append an event in a transaction of its own (for read-only requests such as exports).

    The event commits whether or not the caller's work does: it records the request.
    """
    bind = session.get_bind()
    # A read-only session's engine begins deferred; this write must take the lock up front.
    engine = bind.execution_options(loupe_readonly=False)
    with Session(engine) as own, own.begin():
        return record(own, actor, action, project_id=project_id, target=target, details=details)


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The outcome of :func:`verify`: ``ok``, how many events were checked, and where it broke."""

    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None
    reason: str | None


def verify(session: Session, *, chunk: int = 5_000) -> AuditCheck:
    """Recompute the whole chain; report the first position that does not verify."""
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
    prev, expected, checked = GENESIS, 1, 0
    while True:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected)
            .order_by(AuditEvent.seq)
            .limit(chunk)
        ).all()
        if not events:
            break
        for e in events:
            if e.seq != expected:
                return AuditCheck(False, checked, head_seq, expected, "missing event (gap in seq)")
            if e.prev_hash != prev:
                return AuditCheck(False, checked, head_seq, e.seq, "prev_hash does not match")
            body = canonical(
                seq=e.seq,
                at=e.at,
                actor_id=e.actor_id,
                actor=e.actor,
                action=e.action,
                project_id=e.project_id,
                target=e.target,
                details=e.details,
            )
            if _chain(prev, body) != e.hash:
                return AuditCheck(False, checked, head_seq, e.seq, "row altered (hash mismatch)")
            prev, expected, checked = e.hash, expected + 1, checked + 1
    if checked != head_seq or prev != head_hash:
        return AuditCheck(
            False, checked, head_seq, checked + 1, "log truncated (head does not match)"
        )
    return AuditCheck(True, checked, head_seq, None, None)


def list_events(
    session: Session,
    actor: Actor,
    *,
    after: int = 0,
    limit: int = 100,
    action: str | None = None,
    actor_id: int | None = None,
    project_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditEvent]:
    """A page of events in ``seq`` order, filtered (keyset pagination on ``seq``)."""
    authorize(actor, "audit.read")
    query = select(AuditEvent).where(AuditEvent.seq > after)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if project_id is not None:
        query = query.where(AuditEvent.project_id == project_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return session.scalars(query.order_by(AuditEvent.seq).limit(limit)).all()


def _permission_changes(session: Session, _context: Any, _instances: Any) -> None:
    actor: Actor | None = session.info.get(ACTOR_KEY)
    events: list[tuple[str, int | None, str, dict[str, Any]]] = []
    for obj in session.new:
        if isinstance(obj, Membership):
            events.append(
                ("membership.add", obj.project_id, f"user:{obj.user_id}", {"role": obj.role})
            )
        elif isinstance(obj, User):
            events.append(("user.create", None, f"username:{obj.username}", {"role": obj.role}))
        elif isinstance(obj, ApiToken):
            details = {"name": obj.name, "prefix": obj.prefix}
            events.append(("token.issue", None, f"user:{obj.user_id}", details))
    for obj in session.dirty:
        if isinstance(obj, Membership | User):
            state: InstanceState[Any] = inspect(obj)
            history = state.attrs["role"].history
            if history.has_changes() and history.deleted:
                where = obj.project_id if isinstance(obj, Membership) else None
                who = obj.user_id if isinstance(obj, Membership) else obj.id
                kind = "membership.role" if isinstance(obj, Membership) else "user.role"
                change = {"from": history.deleted[0], "to": obj.role}
                events.append((kind, where, f"user:{who}", change))
        elif isinstance(obj, ApiToken):
            token_state: InstanceState[Any] = inspect(obj)
            history = token_state.attrs["revoked_at"].history
            if history.has_changes() and obj.revoked_at is not None:
                events.append(("token.revoke", None, f"user:{obj.user_id}", {"token_id": obj.id}))
    for obj in session.deleted:
        if isinstance(obj, Membership):
            events.append(("membership.remove", obj.project_id, f"user:{obj.user_id}", {}))
    with session.no_autoflush:
        for action, project_id, target, details in events:
            record(session, actor, action, project_id=project_id, target=target, details=details)


def watch_permission_changes() -> None:
    """Audit user, membership and token changes made through any ORM session (idempotent).

    A flush hook, so that every path that changes permissions (API, CLI, services) is
    covered without each remembering to. The actor is ``session.info["loupe.actor"]``
    when the caller set it, else recorded as ``unattributed``.
    """
    if not event.contains(Session, "before_flush", _permission_changes):
        event.listen(Session, "before_flush", _permission_changes)
