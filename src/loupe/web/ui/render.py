"""Rendering pages: one Jinja2 environment (autoescaped), the page chrome's context,
and the HTML error page that ``loupe.web.errors`` uses outside ``/api``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from loupe.db.database import Database
from loupe.errors import LoupeError
from loupe.permissions import allowed
from loupe.services.people.sessions import CurrentSession, resolve_session
from loupe.web.deps import SESSION_COOKIE

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

__all__ = ["CSP", "STATIC_DIR", "error_page", "harden", "login_redirect", "page", "templates"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

# Everything is served by Loupe itself (no CDN) and no script is inline (JSON data
# blocks are not executed), so the policy can be strict.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def harden(response: Response) -> Response:
    """Headers for a page: no caching (it holds a CSRF token), no framing, strict CSP."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """Built on first use, not at import (``create_app`` does no I/O before it must);
    Jinja2 itself (~15 ms) is imported then too, off the server's start."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(HERE / "templates"))


def page(
    request: Request,
    template: str,
    current: CurrentSession | None,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page: ``current`` (the signed-in session) fills the header and the CSRF token."""
    nav: dict[str, bool | str] = {}
    nav_current = context.pop("nav_current", "")
    if current is not None:
        role = current.actor.role
        nav = {
            "me": current.actor.user_id is not None,
            "wallet": allowed(role, "wallet.read"),
            "audit": allowed(role, "audit.read"),
            "users": allowed(role, "users.list"),
            "current": nav_current,
        }
    response = templates().TemplateResponse(
        request,
        template,
        {
            "title": title,
            "user": current.actor if current else None,
            "csrf_token": current.csrf_token if current else "",
            "nav": nav,
            **context,
        },
        status_code=status_code,
    )
    harden(response)
    return response


def login_redirect(request: Request) -> RedirectResponse:
    """To the sign-in form, coming back here after; saying so when a session cookie was
    sent (it no longer works: the session expired or was ended)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    expired = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
    return RedirectResponse(f"/login?next={quote(target, safe='/')}{expired}", status_code=303)


async def error_page(request: Request, status: int, code: str, message: str) -> Response:
    """Outside ``/api``: 401 sends the browser to sign in; the rest is an error page."""
    if status == 401 and request.method == "GET":
        return login_redirect(request)
    return page(
        request,
        "error.html",
        _signed_in(request) if status != 401 else None,
        title=f"Error {status}",
        status=status,
        code=code,
        message=message,
        status_code=status,
    )


def _signed_in(request: Request) -> CurrentSession | None:
    """The session behind the request, for the page header of an error page (a 403 says
    who is signed in and links back); ``None`` when there is none or it cannot be read."""
    secret = request.cookies.get(SESSION_COOKIE)
    db: Database | None = getattr(request.app.state, "db", None)
    if not secret or db is None:
        return None
    try:
        with db.transaction(readonly=True) as session:
            return resolve_session(session, secret)
    except LoupeError:
        return None
