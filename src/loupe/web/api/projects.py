from __future__ import annotations

from fastapi import APIRouter, status

from loupe.schemas import MemberIn, MemberOut, Page, ProjectIn, ProjectOut, ProjectPatch
from loupe.services import projects
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit, page_of

router = APIRouter(tags=["projects"])


@router.post("/projects", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectIn, ctx: Writer) -> ProjectOut:
    """Create a project; its creator becomes its manager."""
    project = projects.create_project(
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
def list_projects(ctx: Reader, after: After = 0, limit: Limit = 100) -> Page[ProjectOut]:
    """Projects you belong to (all of them for admins and auditors)."""
    rows = projects.list_projects(ctx.session, ctx.actor, after_id=after, limit=limit + 1)
    return page_of(rows, limit, ProjectOut)


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: Id, ctx: Reader) -> ProjectOut:
    return ProjectOut.model_validate(projects.get_project(ctx.session, ctx.actor, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def update_project(project_id: Id, body: ProjectPatch, ctx: Writer) -> ProjectOut:
    """Change the schema, guidelines or overlap; each change makes a new config version."""
    project = projects.update_project(
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
    membership = projects.add_member(
        ctx.session, ctx.actor, project_id, user_id=user_id, role=body.role
    )
    return MemberOut.model_validate(membership)


@router.get("/projects/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: Id, ctx: Reader) -> list[MemberOut]:
    return [
        MemberOut.model_validate(m)
        for m in projects.list_members(ctx.session, ctx.actor, project_id)
    ]
