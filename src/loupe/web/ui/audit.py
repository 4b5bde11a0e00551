"""``GET /audit``: the audit log for auditors, a page at a time (keyset on ``seq``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from loupe.services.compliance import audit_log
from loupe.web.deps import Reader
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    ctx: Reader,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    action: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    current = ctx.browser_session
    rows = audit_log.list_events(
        ctx.session, current.actor, after=after, limit=PAGE + 1, action=action or None
    )
    events = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "project_id": e.project_id,
            "target": e.target,
            "details": json.dumps(e.details, sort_keys=True, ensure_ascii=False),
            "hash": e.hash,
        }
        for e in rows[:PAGE]
    ]
    return page(
        request,
        "audit.html",
        current,
        title="Audit log",
        nav_current="audit",
        events=events,
        after=after,
        action=action or "",
        next_after=rows[PAGE - 1].seq if len(rows) > PAGE else None,
    )
