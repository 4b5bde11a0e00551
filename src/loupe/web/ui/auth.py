"""Signing in and out: ``GET/POST /login``, ``POST /logout``.

The sign-in form is protected against login CSRF with a double-submit token (a
random value in a SameSite=Strict cookie and in the form; there is no session yet
to hold one). Once signed in, the session cookie is HttpOnly and SameSite=Lax, and
every form posts the session's own CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from loupe.db.database import Database
from loupe.errors import TooManyRequests, Unauthenticated
from loupe.services.people import sessions
from loupe.settings import Settings
from loupe.web.deps import SESSION_COOKIE
from loupe.web.ui.render import page

__all__ = ["LOGIN_CSRF_COOKIE", "router", "safe_next"]

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "loupe_login_csrf"


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``/x`` yes; ``//evil.example`` or ``https://...`` no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _secure_cookies(request: Request) -> bool:
    """Whether the cookies set here are ``Secure``: when the setting says so, and always
    when the request came over HTTPS (directly, or through a proxy uvicorn trusts), so a
    TLS deployment that forgot ``LOUPE_SESSION_COOKIE_SECURE`` does not leak the session
    to a plain-HTTP request to the same host."""
    settings: Settings = request.app.state.settings
    return settings.session_cookie_secure or request.url.scheme == "https"


WRONG = "Wrong username or password."
STALE = (
    "The sign-in form expired or did not come from this site (another sign-in tab?): "
    "sign in again here."
)
EXPIRED = "Your session has expired or was ended: sign in again to go on."


def _login_form(
    request: Request,
    *,
    next_url: str,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "login.html",
        None,
        title="Sign in",
        login_csrf=token,
        next_url=next_url,
        error=error,
        username=username,
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure_cookies(request),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, expired: bool = False) -> Response:
    return _login_form(request, next_url=safe_next(next), error=EXPIRED if expired else None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        # Refused, but with a fresh form (and token) to sign in from: a second sign-in tab,
        # or a form left open for an hour, made this a dead-end error page.
        return _login_form(
            request,
            next_url=safe_next(next),
            error=STALE,
            status_code=403,
            username=username,
        )
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    # The client address as the server sees it (behind a proxy: the proxy's, unless
    # uvicorn runs with --proxy-headers); the per-account limit holds either way.
    client = request.client.host if request.client else None
    try:
        with db.transaction() as session:
            issued = sessions.start_session(
                session,
                username=username,
                password=password,
                hours=settings.session_hours,
                client=client,
            )
    except TooManyRequests as exc:
        wait = int(exc.details["retry_after"])
        locked = _login_form(
            request,
            next_url=safe_next(next),
            error=f"This account is locked for {wait} s after too many failed sign-ins.",
            status_code=429,
            username=username,
        )
        locked.headers["Retry-After"] = str(wait)
        return locked
    except Unauthenticated:
        # Its own transaction: the sign-in's rolled back with the error.
        with db.transaction() as session:
            sessions.record_failed_login(session, username=username, client=client)
        return _login_form(
            request, next_url=safe_next(next), error=WRONG, status_code=401, username=username
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        httponly=True,
        samesite="lax",
        secure=_secure_cookies(request),
        path="/",
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        db: Database = request.app.state.db
        with db.transaction() as session:
            try:
                current = sessions.resolve_session(session, secret)
            except Unauthenticated:
                current = None  # already expired or ended: just drop the cookie
            if current is not None:
                sessions.check_csrf(current, csrf_token)
                sessions.end_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
