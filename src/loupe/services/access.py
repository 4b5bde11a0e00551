"""Who is acting, and the policy check every service runs first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Membership, Project
from loupe.db.queries.projects import PROJECT_AND_ROLE
from loupe.db.raw import Raw
from loupe.errors import Conflict, NotFound, PermissionDenied
from loupe.permissions import Action, allowed, require

__all__ = [
    "CLOSED_WHEN_ARCHIVED",
    "Actor",
    "ProjectRef",
    "authorize",
    "authorize_project",
    "authorize_project_fast",
    "refuse_if_archived",
    "sees_contributors",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated user a service acts for. The CLI acts as ``Actor.system()``."""

    user_id: int | None
    username: str
    role: str

    @classmethod
    def system(cls) -> Actor:
        """Local administration through the CLI: whoever can open the database is admin."""
        return cls(user_id=None, username="system", role="admin")


def authorize(actor: Actor, action: Action) -> None:
    require(actor.role, action)


def member_role(session: Session, project_id: int, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(
        select(Membership.role).where(
            Membership.project_id == project_id, Membership.user_id == user_id
        )
    )


def sees_contributors(session: Session, actor: Actor, project_id: int) -> bool:
    """Whether ``actor`` may see who gave a project's labels and verdicts.

    Managers, auditors and admins may (``labellers.read``); reviewers and annotators
    may not, so that review stays blind.
    """
    role = member_role(session, project_id, actor.user_id)
    return allowed(actor.role, "labellers.read", member_role=role)


# The work an archived project no longer takes; it stays readable (exports, dashboards,
# wallets) and its manager may still change it (and unarchive it).
CLOSED_WHEN_ARCHIVED: frozenset[Action] = frozenset(
    {"tasks.work", "reviews.work", "escalations.resolve", "items.import", "qualifications.take"}
)


def refuse_if_archived(action: Action, project_id: int, archived: object) -> None:
    """:class:`Conflict` when ``action`` is work an archived project no longer takes."""
    if archived is not None and action in CLOSED_WHEN_ARCHIVED:
        raise Conflict(
            f"project {project_id} is archived: it serves no tasks, reviews or expert work "
            "and takes no imports or labels; a project manager can unarchive it",
            details={"project_id": project_id, "reason": "archived", "action": action},
        )


def authorize_project(session: Session, actor: Actor, action: Action, project_id: int) -> Project:
    """Load the project and check ``action`` on it; unknown projects are 404 for everyone.

    Work on an archived project (:data:`CLOSED_WHEN_ARCHIVED`) is a :class:`Conflict`,
    checked after the permission so that outsiders learn nothing about the project.
    """
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist", details={"project_id": project_id})
    member = member_role(session, project_id, actor.user_id)
    require(actor.role, action, member_role=member, in_project=True)
    refuse_if_archived(action, project_id, project.archived_at)
    return project


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """What the annotator hot path needs of a project, read in one statement."""

    id: int
    overlap: int
    config: dict[str, Any]
    config_version: int
    created_at: datetime
    paused_reason: str | None = None  # the actor's quality pause in this project, if any
    archived: bool = False  # see CLOSED_WHEN_ARCHIVED


def authorize_project_fast(raw: Raw, actor: Actor, action: Action, project_id: int) -> ProjectRef:
    """:func:`authorize_project` in one plain-SQL round trip (see ``loupe.db.raw``)."""
    row = raw.one(PROJECT_AND_ROLE, user=actor.user_id or 0, project=project_id)
    if row is None:
        raise NotFound(f"project {project_id} does not exist", details={"project_id": project_id})
    require(actor.role, action, member_role=row.role, in_project=True)
    refuse_if_archived(action, project_id, row.archived_at)
    if action == "tasks.work" and row.paused_reason:
        raise PermissionDenied(
            f"you are paused in project {project_id}: {row.paused_reason}",
            details={"project_id": project_id, "paused": True},
        )
    return ProjectRef(
        id=row.id,
        overlap=row.overlap,
        config=raw.json_out(row.config),
        config_version=row.config_version,
        created_at=raw.time_out(row.created_at),
        paused_reason=row.paused_reason,
        archived=row.archived_at is not None,
    )
