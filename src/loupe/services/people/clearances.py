"""Clearances: who may reveal raw items of which sensitivity class, in which project, until when.

A clearance names one project: it lets its holder reveal (and be routed) that project's
items of its class and the classes below it (``health`` > ``personal`` > ``internal`` >
``public``), nowhere else. Only admins grant and revoke them (``clearances.manage``; a
project manager alone may not, so no manager can clear a friend or two managers each
other), never to themselves, and every grant and revocation is audited.

Beside that ladder stands the ``voice`` clearance (:data:`VOICE`): a voice is biometric
data, so an item's raw audio is served only to people holding a live ``voice`` clearance
for its project (:mod:`loupe.services.projects.media_views`), whatever their role and whatever
sensitivity clearance they hold. It is matched exactly: no sensitivity clearance implies
it, and it implies none. It is granted, renewed, expired and revoked like the others.

Example (in a transaction)::

    grant_clearance(session, admin, user_id=7, project_id=1, sensitivity="health")
    has_clearance(session, 7, "personal", project_id=1, now=utcnow())   # True
    has_clearance(session, 7, "personal", project_id=2, now=utcnow())   # False
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from loupe.db.models import Project, User, utcnow
from loupe.db.privacy_models import Clearance
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.formats import SENSITIVITIES
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log

__all__ = [
    "CLEARANCE_KINDS",
    "VOICE",
    "grant_clearance",
    "has_clearance",
    "list_clearances",
    "revoke_clearance",
]

VOICE = "voice"
"""The clearance to hear an item's raw audio (a voice is biometric data)."""
CLEARANCE_KINDS: tuple[str, ...] = (*SENSITIVITIES, VOICE)
"""What a clearance may name: a sensitivity class (a ladder) or ``voice`` (exact)."""


def grant_clearance(
    session: Session,
    actor: Actor,
    *,
    user_id: int,
    project_id: int,
    sensitivity: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Clearance:
    """Grant (or renew) ``user_id``'s clearance for ``sensitivity`` (a class, or
    :data:`VOICE`) in ``project_id``."""
    authorize(actor, "clearances.manage")
    now = now or utcnow()
    if sensitivity not in CLEARANCE_KINDS:
        raise InvalidInput(
            f"sensitivity: {sensitivity!r} is not a class; use one of "
            + ", ".join(CLEARANCE_KINDS),
            details={"field": "sensitivity", "allowed": list(CLEARANCE_KINDS)},
        )
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidInput(
            "expires_at: must be a future time with a timezone (e.g. 2030-01-01T00:00:00Z)",
            details={"field": "expires_at"},
        )
    if actor.user_id is not None and actor.user_id == user_id:
        raise PermissionDenied(
            "nobody may grant a clearance to themselves; ask another admin",
            details={"action": "clearances.manage"},
        )
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist", details={"project_id": project_id})
    clearance = session.scalar(
        select(Clearance).where(
            Clearance.user_id == user_id,
            Clearance.project_id == project_id,
            Clearance.sensitivity == sensitivity,
        )
    )
    if clearance is None:
        clearance = Clearance(user_id=user_id, project_id=project_id, sensitivity=sensitivity)
        session.add(clearance)
    clearance.granted_by = actor.user_id
    clearance.expires_at = expires_at
    clearance.created_at = now
    session.flush()
    audit_log.record(
        session,
        actor,
        "clearance.grant",
        project_id=project_id,
        target=f"user:{user_id}",
        details={
            "clearance_id": clearance.id,
            "sensitivity": sensitivity,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
        now=now,
    )
    return clearance


def revoke_clearance(session: Session, actor: Actor, clearance_id: int) -> None:
    """Revoke a clearance at once (admins only; audited)."""
    authorize(actor, "clearances.manage")
    clearance = session.get(Clearance, clearance_id)
    if clearance is None:
        raise NotFound(
            f"clearance {clearance_id} does not exist", details={"clearance_id": clearance_id}
        )
    audit_log.record(
        session,
        actor,
        "clearance.revoke",
        project_id=clearance.project_id,
        target=f"user:{clearance.user_id}",
        details={"clearance_id": clearance_id, "sensitivity": clearance.sensitivity},
    )
    session.delete(clearance)
    session.flush()


def list_clearances(
    session: Session,
    actor: Actor,
    *,
    user_id: int | None = None,
    project_id: int | None = None,
) -> Sequence[Clearance]:
    authorize(actor, "clearances.manage")
    query = select(Clearance).order_by(Clearance.id)
    if user_id is not None:
        query = query.where(Clearance.user_id == user_id)
    if project_id is not None:
        query = query.where(Clearance.project_id == project_id)
    return session.scalars(query).all()


def has_clearance(
    session: Session, user_id: int | None, sensitivity: str, *, project_id: int, now: datetime
) -> bool:
    """Whether ``user_id`` holds an unexpired clearance at or above ``sensitivity`` in
    ``project_id`` (a clearance for another project never counts); for :data:`VOICE`, an
    unexpired ``voice`` clearance (an exact match)."""
    if user_id is None or sensitivity not in CLEARANCE_KINDS:
        return False
    covering = (
        [VOICE] if sensitivity == VOICE else list(SENSITIVITIES[SENSITIVITIES.index(sensitivity) :])
    )
    found = session.scalar(
        select(Clearance.id).where(
            Clearance.user_id == user_id,
            Clearance.project_id == project_id,
            Clearance.sensitivity.in_(covering),
            or_(Clearance.expires_at.is_(None), Clearance.expires_at > now),
        )
    )
    return found is not None
