"""Projects: label schema (versioned), guidelines, overlap, membership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loupe.db.models import Item, Membership, Project, ProjectConfig, User, utcnow
from loupe.db.project_models import DeletedProject
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import LabelSchema
from loupe.permissions import ROLES
from loupe.routing import SPECIAL_CATEGORIES
from loupe.services.access import Actor, authorize, authorize_project
from loupe.services.compliance import audit_log

__all__ = [
    "add_member",
    "create_project",
    "find_project_id",
    "get_project",
    "list_members",
    "list_projects",
    "parse_schema",
    "project_schema",
    "resume_member",
    "update_project",
]

MAX_OVERLAP = 100


def parse_schema(config: Any) -> LabelSchema:
    """Validate a label schema given as JSON; errors name the offending field."""
    try:
        return LabelSchema.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"config.{field}: {first['msg']}",
            details={"field": f"config.{field}", "errors": exc.errors(include_url=False)},
        ) from None


class _Configured(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def config_version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


def project_schema(project: _Configured) -> LabelSchema:
    """The project's current schema, parsed once per config version.

    The cache key includes the project's creation time so two databases opened
    by one process (tests, benchmarks) never share an entry.
    """
    key = (project.id, project.config_version, project.created_at)
    cached = _schema_cache.get(key)
    if cached is None:
        cached = LabelSchema.model_validate(project.config)
        if len(_schema_cache) > 1024:
            _schema_cache.clear()
        _schema_cache[key] = cached
    return cached


_schema_cache: dict[tuple[int, int, datetime], LabelSchema] = {}


def _check_overlap(overlap: int) -> None:
    if not 1 <= overlap <= MAX_OVERLAP:
        raise InvalidInput(
            f"overlap: must be between 1 and {MAX_OVERLAP}, got {overlap}",
            details={"field": "overlap"},
        )


def create_project(
    session: Session,
    actor: Actor,
    *,
    name: str,
    config: Any,
    overlap: int = 1,
    guidelines: str = "",
    description: str = "",
) -> Project:
    authorize(actor, "projects.create")
    schema = parse_schema(config)
    _check_overlap(overlap)
    if not name.strip():
        raise InvalidInput("name: must not be empty", details={"field": "name"})
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"a project named {name!r} already exists", details={"field": "name"})
    stored = schema.model_dump(mode="json")
    project = Project(
        id=_unused_id(session),
        name=name,
        description=description,
        guidelines=guidelines,
        overlap=overlap,
        config=stored,
        config_version=1,
        created_by=actor.user_id,
    )
    session.add(project)
    session.flush()
    session.add(
        ProjectConfig(
            project_id=project.id, version=1, config=stored, guidelines=guidelines, overlap=overlap
        )
    )
    if actor.user_id is not None:
        session.add(Membership(project_id=project.id, user_id=actor.user_id, role="manager"))
    session.flush()
    _audit_openings(session, actor, project.id, before=SPECIAL_CATEGORIES, schema=schema)
    return project


def _unused_id(session: Session) -> int | None:
    """An id above every deleted project's, on SQLite; ``None`` lets the database choose.

    SQLite gives a new row the largest id plus one, which is a deleted project's id when
    the newest project was deleted; the payment log names projects by id for ever, so
    ids are never reused. PostgreSQL's sequences never go back.
    """
    if session.get_bind().dialect.name != "sqlite":
        return None
    deleted = session.scalar(select(func.max(DeletedProject.id)))
    if deleted is None:
        return None
    highest = session.scalar(select(func.max(Project.id))) or 0
    return max(int(deleted), int(highest)) + 1


def _audit_openings(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    before: Sequence[str],
    schema: LabelSchema,
) -> None:
    """Record a manager's choice to open special-category data (GDPR art. 9) to people
    without a clearance, and to close it again."""
    now_open = {s for s in SPECIAL_CATEGORIES if s not in schema.routing.clearance_for}
    was_open = {s for s in SPECIAL_CATEGORIES if s not in before}
    for action, classes in (
        ("project.special_category_opened", now_open - was_open),
        ("project.special_category_closed", was_open - now_open),
    ):
        if classes:
            audit_log.record(
                session,
                actor,
                action,
                project_id=project_id,
                target=f"project:{project_id}",
                details={"sensitivity": sorted(classes)},
            )


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    return authorize_project(session, actor, "projects.read", project_id)


def list_projects(
    session: Session, actor: Actor, *, after_id: int, limit: int, archived: bool = False
) -> Sequence[Project]:
    """Projects the actor belongs to (all for admins and auditors); the archived ones
    only when ``archived`` (they are listed apart from the live ones)."""
    shown = Project.archived_at.is_not(None) if archived else Project.archived_at.is_(None)
    query = select(Project).where(Project.id > after_id, shown).order_by(Project.id).limit(limit)
    if actor.role not in {"admin", "auditor"}:
        query = query.join(
            Membership,
            (Membership.project_id == Project.id) & (Membership.user_id == actor.user_id),
        )
    return session.scalars(query).all()


def update_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    config: Any | None = None,
    guidelines: str | None = None,
    overlap: int | None = None,
    description: str | None = None,
) -> Project:
    """Change a project; schema, guidelines or overlap changes make a new config version."""
    project = authorize_project(session, actor, "projects.update", project_id)
    versioned_change = False
    if config is not None:
        schema = parse_schema(config)
        stored = schema.model_dump(mode="json")
        versioned_change |= stored != project.config
        before = project_schema(project).routing.clearance_for
        project.config = stored
        _audit_openings(session, actor, project.id, before=before, schema=schema)
    if guidelines is not None and guidelines != project.guidelines:
        project.guidelines = guidelines
        versioned_change = True
    if overlap is not None and overlap != project.overlap:
        _check_overlap(overlap)
        project.overlap = overlap
        versioned_change = True
        session.execute(
            update(Item)
            .where(Item.project_id == project.id)
            .values(is_complete=Item.label_count >= overlap)
        )
    if description is not None:
        project.description = description
    if versioned_change:
        project.config_version += 1
        session.add(
            ProjectConfig(
                project_id=project.id,
                version=project.config_version,
                config=project.config,
                guidelines=project.guidelines,
                overlap=project.overlap,
            )
        )
    project.updated_at = utcnow()
    session.flush()
    return project


def add_member(
    session: Session, actor: Actor, project_id: int, *, user_id: int, role: str
) -> Membership:
    """Add ``user_id`` to the project with ``role`` (or change their role)."""
    authorize_project(session, actor, "projects.update", project_id)
    if role not in ROLES or role == "admin":
        allowed = [r for r in ROLES if r != "admin"]
        raise InvalidInput(
            f"role: {role!r} is not a project role; use one of {', '.join(allowed)}",
            details={"field": "role", "allowed": allowed},
        )
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    membership = session.get(Membership, (project_id, user_id))
    if membership is None:
        membership = Membership(project_id=project_id, user_id=user_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


def list_members(session: Session, actor: Actor, project_id: int) -> Sequence[Membership]:
    authorize_project(session, actor, "projects.read", project_id)
    return session.scalars(
        select(Membership).where(Membership.project_id == project_id).order_by(Membership.user_id)
    ).all()


def resume_member(session: Session, actor: Actor, project_id: int, user_id: int) -> Membership:
    """Lift a quality pause (a manager decision, recorded by clearing the reason)."""
    authorize_project(session, actor, "projects.update", project_id)
    membership = session.get(Membership, (project_id, user_id))
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    membership.paused_at = None
    membership.paused_reason = None
    session.flush()
    return membership


def find_project_id(session: Session, ref: str) -> int | None:
    """A project's id by numeric id or else by name; ``None`` when neither exists."""
    if ref.isdigit() and session.get(Project, int(ref)) is not None:
        return int(ref)
    return session.scalar(select(Project.id).where(Project.name == ref))
