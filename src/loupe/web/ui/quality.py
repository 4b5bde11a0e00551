"""``GET /projects/{id}/quality``: quality per contributor, the manager's table.

The rows come from :func:`loupe.services.quality.per_contributor.contributor_quality`; the
page sorts them on the server (``?sort=gold&order=desc``), so the links work without
JavaScript, and links each contributor to their reputation with the evidence behind it
(``GET /api/v1/users/{id}/reputation?explain=true``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.services.projects import definition
from loupe.services.quality import per_contributor
from loupe.services.quality.agreement import AGREEMENT_DEFINITION
from loupe.services.quality.per_contributor import CONSENSUS_DEFINITION, SORT_KEYS, SortKey
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

COLUMNS: dict[SortKey, str] = {
    "username": "Contributor",
    "labels": "Labels",
    "gold": "Gold accuracy (95 % interval)",
    "skill": "Model-estimated skill",
    "agreement": "Agreement with settled consensus",
    "reviews": "Reviews received (accepted)",
    "pay": "Pay",
}
assert tuple(COLUMNS) == SORT_KEYS


@router.get("/projects/{project_id}/quality", response_class=HTMLResponse)
def quality_page(
    project_id: Id,
    request: Request,
    ctx: Reader,
    sort: Annotated[SortKey, Query()] = "username",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> HTMLResponse:
    current = ctx.browser_session
    config = optional_ledger_config(ctx.settings)
    rows = per_contributor.contributor_quality(
        ctx.session,
        current.actor,
        project_id,
        secret=config.keys.secret if config else None,
        sort=sort,
        descending=order == "desc",
    )
    project = definition.get_project(ctx.session, current.actor, project_id)
    return page(
        request,
        "quality.html",
        current,
        title=f"{project.name} · quality per contributor",
        project={"id": project_id, "name": project.name},
        project_nav=project_links(ctx.session, current.actor, project_id, current="dashboard"),
        rows=rows,
        columns=COLUMNS,
        sort=sort,
        order=order,
        show_pay=any(row.pay is not None for row in rows),
        consensus_definition=CONSENSUS_DEFINITION,
        agreement_definition=AGREEMENT_DEFINITION,
    )
