"""``GET /projects/{id}/dashboard``: the manager's view of a project."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.services import progress
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.ui.charts import bar_chart, column_chart
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/dashboard", response_class=HTMLResponse)
def dashboard(project_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    stats = progress.project_progress(ctx.session, current.actor, project_id)
    throughput = column_chart(
        [(day.day.strftime("%d %b"), day.labels) for day in stats.per_day], width=640, height=180
    )
    contributors = bar_chart([(c.username, c.labels) for c in stats.contributors], width=640)
    return page(
        request,
        "dashboard.html",
        current,
        title=f"{stats.name} · dashboard",
        stats=stats,
        throughput=throughput,
        contributors=contributors,
    )
