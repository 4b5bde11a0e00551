"""Request dependencies: a database session (the request owns the transaction) and the actor.

The dependencies are ``async`` and do no I/O, so a request costs one hop to the
thread pool (the handler itself) rather than one per dependency; the token is
looked up on first use of ``ctx.actor``, inside the handler's thread and
transaction. Missing credentials are refused before the handler runs.

A browser signed in to the web UI authenticates API calls with its session cookie
instead of a bearer token; a cookie-authenticated write (``Writer``) must also send
the session's CSRF token in ``X-CSRF-Token``. A bearer token, when sent, always
wins and takes exactly the token path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.services.access import Actor
from loupe.services.compliance.audit_log import ACTOR_KEY
from loupe.services.people.sessions import CurrentSession, check_csrf, resolve_session
from loupe.services.people.users import authenticate
from loupe.settings import Settings

__all__ = ["CSRF_HEADER", "SESSION_COOKIE", "Context", "Reader", "Writer"]

SESSION_COOKIE = "loupe_session"
CSRF_HEADER = "X-CSRF-Token"

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer lp_...`")


class Context:
    """What a handler works with: its session, the actor, settings and the database."""

    __slots__ = ("_actor", "_browser", "_csrf", "_secret", "db", "session", "settings")

    def __init__(
        self,
        session: Session,
        secret: str,
        settings: Settings,
        db: Database,
        *,
        browser: bool = False,
        csrf: str | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.db = db
        self._secret = secret
        self._browser = browser  # ``secret`` is a session cookie, not an API token
        self._csrf = csrf  # the X-CSRF-Token a cookie-authenticated write sent
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            if self._browser:
                self._actor = self.browser_session.actor
            else:
                self._actor = authenticate(self.session, self._secret)
            # Changes this request saves are attributed to its actor in the audit log.
            self.session.info[ACTOR_KEY] = self._actor
        return self._actor

    @property
    def browser_session(self) -> CurrentSession:
        """The web UI session behind a cookie-authenticated request (CSRF checked on writes)."""
        if not self._browser:
            raise Unauthenticated("this request is authenticated with an API token, not a session")
        current = resolve_session(self.session, self._secret)
        if self._csrf is not None:
            check_csrf(current, self._csrf)
        return current


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <token>' "
            "(create one with `loupe users token USERNAME`)"
        )
    return credentials.credentials


@contextmanager
def _context(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    readonly: bool,
    durable: bool = True,
) -> Iterator[Context]:
    # The cookie is read directly, not declared: it is the UI's, not part of the API contract.
    session_cookie = request.cookies.get(SESSION_COOKIE)
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    # Sessions connect lazily: nothing blocks here. scope="function" (below) commits
    # before the response is sent, so an acknowledged write is a committed write.
    with db.transaction(readonly=readonly, durable=durable) as session:
        if credentials is None and session_cookie:
            # Writes need the CSRF header: "" (not None) makes the check fail without it.
            csrf = None if readonly else request.headers.get(CSRF_HEADER, "")
            yield Context(session, session_cookie, settings, db, browser=True, csrf=csrf)
        else:
            yield Context(session, _secret(credentials), settings, db)


def _writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Iterator[Context]:
    # A plain generator: FastAPI runs its exit, the commit (an fsync with SQLite's
    # synchronous=FULL), in the thread pool. As an async generator the commit ran on the
    # event loop and stalled every other connection for its length (issue 18).
    with _context(request, credentials, readonly=False) as context:
        yield context


def _lease_writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Iterator[Context]:
    with _context(request, credentials, readonly=False, durable=False) as context:
        yield context


async def _reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[Context]:
    with _context(request, credentials, readonly=True) as context:
        yield context


Writer = Annotated[Context, Depends(_writer, scope="function")]
Reader = Annotated[Context, Depends(_reader, scope="function")]
#: A writer whose commit is not synced to disk: for a task's lease only, which a power
#: cut may lose without harm (the item returns to the queue; see loupe.db.engine).
LeaseWriter = Annotated[Context, Depends(_lease_writer, scope="function")]
