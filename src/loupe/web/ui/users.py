"""``GET /users``: the people who use Loupe; admins deactivate and reactivate them here.

The buttons are plain HTML forms (they work without JavaScript) that post the
session's CSRF token as a form field to ``POST /users/{id}/deactivate`` or
``/reactivate``; both go through :func:`loupe.services.people.users.set_active`, like the API
(``POST /api/v1/users/{id}/deactivate``) and the CLI (``loupe users deactivate``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.permissions import allowed
from loupe.services.compliance.audit_log import ACTOR_KEY
from loupe.services.people import sessions, users
from loupe.web.deps import SESSION_COOKIE, Reader
from loupe.web.params import Id
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 100


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request, ctx: Reader, after: Annotated[int, Query(ge=0, le=2**62)] = 0
) -> HTMLResponse:
    current = ctx.browser_session
    rows = users.list_users(ctx.session, current.actor, after_id=after, limit=PAGE + 1)
    return page(
        request,
        "users.html",
        current,
        title="Users",
        nav_current="users",
        people=rows[:PAGE],
        manage=allowed(current.actor.role, "users.manage"),
        me=current.actor.user_id,
        after=after,
        next_after=rows[PAGE - 1].id if len(rows) > PAGE else None,
    )


def _set_active(
    request: Request, user_id: int, csrf_token: str, *, active: bool
) -> RedirectResponse:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated("sign in to manage users")
    db: Database = request.app.state.db
    with db.transaction() as session:
        current = sessions.resolve_session(session, secret)
        sessions.check_csrf(current, csrf_token)
        session.info[ACTOR_KEY] = current.actor
        users.set_active(session, current.actor, user_id=user_id, active=active)
    return RedirectResponse(f"/users#user-{user_id}", status_code=303)


@router.post("/users/{user_id}/deactivate")
def deactivate(
    user_id: Id, request: Request, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> RedirectResponse:
    return _set_active(request, user_id, csrf_token, active=False)


@router.post("/users/{user_id}/reactivate")
def reactivate(
    user_id: Id, request: Request, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> RedirectResponse:
    return _set_active(request, user_id, csrf_token, active=True)
