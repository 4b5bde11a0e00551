"""A project's privacy settings: the gate's policy, whether the gate runs, retention.

A project without a ``project_privacy`` row uses the defaults: gate on, policy
``placeholder``, keep items forever.

Settings apply to items written after they change, however long the import that writes
them has run: a writer that stores items gated under a project's settings reads them with
:func:`lock_privacy` in its own transaction, and :func:`set_privacy` waits for it (and it
for :func:`set_privacy`) on PostgreSQL, where the project's row is the lock; SQLite
serialises writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Project, utcnow
from loupe.db.privacy_models import ProjectPrivacy
from loupe.errors import InvalidInput, NotFound
from loupe.privacy import POLICIES, Policy
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log

__all__ = [
    "MAX_RETENTION_DAYS",
    "PrivacySettings",
    "get_privacy",
    "lock_privacy",
    "privacy_of",
    "set_privacy",
]

MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    project_id: int
    policy: Policy
    gate: bool
    retention_days: int | None


def privacy_of(session: Session, project_id: int) -> PrivacySettings:
    """The settings, without an authorisation check (for services that did one)."""
    row = session.get(ProjectPrivacy, project_id)
    if row is None:
        return PrivacySettings(project_id, "placeholder", True, None)
    policy: Policy = row.policy  # type: ignore[assignment]  # validated on write
    return PrivacySettings(project_id, policy, row.gate, row.retention_days)


def lock_privacy(session: Session, project_id: int) -> PrivacySettings:
    """The settings, unchanged until this transaction ends: PostgreSQL locks the project's
    row ``FOR SHARE``, which :func:`set_privacy` (``FOR NO KEY UPDATE``) and a project's
    deletion (``FOR UPDATE``) wait for, and wait behind. For a writer that stores items
    gated under them. :class:`~loupe.errors.NotFound` when the project was deleted."""
    locked = select(Project.id).where(Project.id == project_id).with_for_update(read=True)
    if session.scalar(locked) is None:
        raise NotFound(f"project {project_id} does not exist", details={"project_id": project_id})
    # Columns, not the ORM object: the session may hold one read before the lock was taken.
    row = session.execute(
        select(ProjectPrivacy.policy, ProjectPrivacy.gate, ProjectPrivacy.retention_days).where(
            ProjectPrivacy.project_id == project_id
        )
    ).first()
    if row is None:
        return PrivacySettings(project_id, "placeholder", True, None)
    policy = cast(Policy, row.policy)  # validated on write
    return PrivacySettings(project_id, policy, row.gate, row.retention_days)


def get_privacy(session: Session, actor: Actor, project_id: int) -> PrivacySettings:
    authorize_project(session, actor, "projects.read", project_id)
    return privacy_of(session, project_id)


_UNSET: Any = object()


def set_privacy(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    policy: str | None = None,
    gate: bool | None = None,
    retention_days: int | None = _UNSET,
) -> PrivacySettings:
    """Change the settings (audited). They apply to items imported from now on.

    ``retention_days=None`` keeps items forever; leave it out to keep the current value.
    """
    authorize_project(session, actor, "privacy.manage", project_id)
    if policy is not None and policy not in POLICIES:
        raise InvalidInput(
            f"policy: {policy!r} is not a redaction policy; use one of {', '.join(POLICIES)}",
            details={"field": "policy", "allowed": list(POLICIES)},
        )
    if (
        retention_days is not _UNSET
        and retention_days is not None
        and not 1 <= retention_days <= MAX_RETENTION_DAYS
    ):
        raise InvalidInput(
            f"retention_days: must be between 1 and {MAX_RETENTION_DAYS}, or null",
            details={"field": "retention_days"},
        )
    # PostgreSQL: waits for the import batches writing under the current settings
    # (lock_privacy); the batches after this commit are written under the new ones.
    session.execute(
        select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
    )
    row = session.get(ProjectPrivacy, project_id)
    if row is None:
        row = ProjectPrivacy(project_id=project_id, policy="placeholder", gate=True)
        session.add(row)
    before = {"policy": row.policy, "gate": row.gate, "retention_days": row.retention_days}
    if policy is not None:
        row.policy = policy
    if gate is not None:
        row.gate = gate
    if retention_days is not _UNSET:
        row.retention_days = retention_days
    row.updated_at = utcnow()
    session.flush()
    after = {"policy": row.policy, "gate": row.gate, "retention_days": row.retention_days}
    audit_log.record(
        session,
        actor,
        "privacy.update",
        project_id=project_id,
        target=f"project:{project_id}",
        details={"from": before, "to": after},
    )
    return privacy_of(session, project_id)
