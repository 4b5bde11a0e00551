"""Request dependencies: a database session (the request owns the transaction) and the actor.

The dependencies are ``async`` and do no I/O, so a request costs one hop to the
thread pool (the handler itself) rather than one per dependency; the token is
looked up on first use of ``ctx.actor``, inside the handler's thread and
transaction. Missing credentials are refused before the handler runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.services.access import Actor
from loupe.services.users import authenticate
from loupe.settings import Settings

__all__ = ["Context", "Reader", "Writer"]

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer lp_...`")


class Context:
    """What a handler works with: its session, the actor, settings and the database."""

    __slots__ = ("_actor", "_secret", "db", "session", "settings")

    def __init__(self, session: Session, secret: str, settings: Settings, db: Database) -> None:
        self.session = session
        self.settings = settings
        self.db = db
        self._secret = secret
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            self._actor = authenticate(self.session, self._secret)
        return self._actor


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <token>' "
            "(create one with `loupe users token USERNAME`)"
        )
    return credentials.credentials


async def _writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[Context]:
    secret = _secret(credentials)
    db: Database = request.app.state.db
    # Sessions connect lazily: nothing blocks here. scope="function" (below) commits
    # before the response is sent, so an acknowledged write is a committed write.
    with db.transaction() as session:
        yield Context(session, secret, request.app.state.settings, db)


async def _reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[Context]:
    secret = _secret(credentials)
    db: Database = request.app.state.db
    with db.transaction(readonly=True) as session:
        yield Context(session, secret, request.app.state.settings, db)


Writer = Annotated[Context, Depends(_writer, scope="function")]
Reader = Annotated[Context, Depends(_reader, scope="function")]
