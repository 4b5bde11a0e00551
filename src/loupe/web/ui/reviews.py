"""``GET /projects/{id}/review``: the reviewer's view of peer review.

The page is rendered once; ``static/review.js`` then asks the API for the next review
task (``POST /api/v1/projects/{id}/reviews/next``: blind — the item as gated and the
answer under review, never who gave it) and sends the verdict (``POST
/api/v1/projects/{id}/labels/{label}/reviews``). Whether someone may review yet (the
project's reviewer role, or an annotator's reputation tier) is the API's to say; the
page shows its message.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.services.labelling import workspace
from loupe.services.labelling.comments import MAX_COMMENT
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.ui.editors import editor_for
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/review", response_class=HTMLResponse)
def review_page(project_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    project = workspace.workspace_project(
        ctx.session, current.actor, project_id, action="reviews.work"
    )
    return page(
        request,
        "review.html",
        current,
        title=f"{project.name} · review",
        project=project,
        project_nav=project_links(ctx.session, current.actor, project_id, current="review"),
        editor=editor_for(project.schema),
        blind=not project.schema.review.show_other_labels,
        max_comment=MAX_COMMENT,
    )
