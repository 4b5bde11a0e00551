"""``GET /projects/{id}/qualifications/{test}``: take a qualification test.

The page describes the test; ``static/qualification.js`` starts an attempt through the
API (``POST /api/v1/projects/{id}/qualifications/{test}/attempts``: the questions in
an order shuffled for this attempt, never their answers), shows them one per screen
with the project's answer editor, and sends the answers to be graded (``POST
.../attempts/{attempt}``): pass or fail, the score, and when a retry may start.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.errors import NotFound
from loupe.services.labelling import workspace
from loupe.services.quality import qualifications
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.ui.editors import editor_for
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/qualifications/{test_id}", response_class=HTMLResponse)
def qualification_page(project_id: Id, test_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    project = workspace.workspace_project(
        ctx.session, current.actor, project_id, action="qualifications.take"
    )
    test = next(
        (
            t
            for t in qualifications.list_tests(ctx.session, current.actor, project_id)
            if t.id == test_id
        ),
        None,
    )
    if test is None:
        raise NotFound(
            f"qualification test {test_id} does not exist in project {project_id}",
            details={"test_id": test_id},
        )
    return page(
        request,
        "qualification.html",
        current,
        title=f"{test.name} · qualification test",
        nav_current="me",
        project=project,
        test=test,
        editor=editor_for(project.schema),
    )
