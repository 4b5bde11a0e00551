from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from loupe.learning.persistence import ModelStore
from loupe.services.projects import definition, project_lifecycle
from loupe.web.api.subjects import ScrubOut
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit, page_of
from loupe.web.schemas.common import Page
from loupe.web.schemas.projects import MemberIn, MemberOut, ProjectIn, ProjectOut, ProjectPatch

router = APIRouter(tags=["projects"])


@router.post("/projects", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectIn, ctx: Writer) -> ProjectOut:
    """Create a project; its creator becomes its manager."""
    project = definition.create_project(
        ctx.session,
        ctx.actor,
        name=body.name,
        config=body.config.model_dump(mode="json"),
        overlap=body.overlap,
        guidelines=body.guidelines,
        description=body.description,
    )
    return ProjectOut.model_validate(project)


@router.get("/projects", response_model=Page[ProjectOut])
def list_projects(
    ctx: Reader,
    after: After = 0,
    limit: Limit = 100,
    archived: Annotated[
        bool, Query(description="List the archived projects instead of the live ones")
    ] = False,
) -> Page[ProjectOut]:
    """Projects you belong to (all of them for admins and auditors); archived ones apart."""
    rows = definition.list_projects(
        ctx.session, ctx.actor, after_id=after, limit=limit + 1, archived=archived
    )
    return page_of(rows, limit, ProjectOut)


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: Id, ctx: Reader) -> ProjectOut:
    return ProjectOut.model_validate(definition.get_project(ctx.session, ctx.actor, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def update_project(project_id: Id, body: ProjectPatch, ctx: Writer) -> ProjectOut:
    """Change the schema, guidelines or overlap; each change makes a new config version."""
    project = definition.update_project(
        ctx.session,
        ctx.actor,
        project_id,
        config=body.config.model_dump(mode="json") if body.config else None,
        guidelines=body.guidelines,
        overlap=body.overlap,
        description=body.description,
    )
    return ProjectOut.model_validate(project)


@router.put("/projects/{project_id}/members/{user_id}", response_model=MemberOut)
def put_member(project_id: Id, user_id: Id, body: MemberIn, ctx: Writer) -> MemberOut:
    """Add a user to the project, or change their role in it."""
    membership = definition.add_member(
        ctx.session, ctx.actor, project_id, user_id=user_id, role=body.role
    )
    return MemberOut.model_validate(membership)


@router.get("/projects/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: Id, ctx: Reader) -> list[MemberOut]:
    return [
        MemberOut.model_validate(m)
        for m in definition.list_members(ctx.session, ctx.actor, project_id)
    ]


class DuplicateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The new project's name")
    members: bool = Field(default=False, description="Copy the members and their roles too")


class DeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: str = Field(max_length=200, description="The project's name, typed to confirm")


class ProjectDeletionOut(BaseModel):
    project_id: int
    name: str
    items_deleted: int
    labels_deleted: int
    comments_deleted: int
    keys_shredded: int
    ledger_entries_kept: int = Field(
        description="Payment-log entries of the project: kept (the log is append-only)"
    )
    model_files_deleted: list[str]
    storage: ScrubOut = Field(description="The scrub of the database files after commit")


@router.post("/projects/{project_id}/archive", response_model=ProjectOut)
def archive_project(project_id: Id, ctx: Writer) -> ProjectOut:
    """Archive: no tasks, reviews, expert work, imports or labels; still readable. Audited."""
    project = project_lifecycle.archive_project(ctx.session, ctx.actor, project_id)
    return ProjectOut.model_validate(project)


@router.post("/projects/{project_id}/unarchive", response_model=ProjectOut)
def unarchive_project(project_id: Id, ctx: Writer) -> ProjectOut:
    """Reopen an archived project. Audited."""
    project = project_lifecycle.unarchive_project(ctx.session, ctx.actor, project_id)
    return ProjectOut.model_validate(project)


@router.post(
    "/projects/{project_id}/duplicate",
    response_model=ProjectOut,
    status_code=status.HTTP_201_CREATED,
)
def duplicate_project(project_id: Id, body: DuplicateIn, ctx: Writer) -> ProjectOut:
    """A new project with this one's configuration (schema, guidelines, overlap, privacy,
    loop settings, rate card) and optionally its members; no items or labels. Audited."""
    project = project_lifecycle.duplicate_project(
        ctx.session, ctx.actor, project_id, name=body.name, members=body.members
    )
    return ProjectOut.model_validate(project)


@router.delete("/projects/{project_id}", response_model=ProjectDeletionOut)
def delete_project(project_id: Id, body: DeleteIn, ctx: Writer) -> ProjectDeletionOut:
    """Delete the project and its data (managers, admins); ``confirm`` is its name. The
    payment log keeps the project's entries and still verifies. Audited."""
    deletion = project_lifecycle.delete_project(
        ctx.session, ctx.actor, project_id, confirm=body.confirm
    )
    # The scrub only sees committed deletions: commit now, not after the handler.
    ctx.session.commit()
    done = project_lifecycle.finish_deletion(
        ctx.db, deletion, store=ModelStore(ctx.settings.resolved_model_dir())
    )
    return ProjectDeletionOut(
        project_id=deletion.project_id,
        name=deletion.name,
        items_deleted=deletion.items_deleted,
        labels_deleted=deletion.labels_deleted,
        comments_deleted=deletion.comments_deleted,
        keys_shredded=deletion.keys_shredded,
        ledger_entries_kept=deletion.ledger_entries_kept,
        model_files_deleted=done.model_files_deleted,
        storage=ScrubOut.model_validate(done.storage),
    )
