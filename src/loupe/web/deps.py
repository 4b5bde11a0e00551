"""Request dependencies: a database session (the request owns the transaction) and the actor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.services.access import Actor
from loupe.services.users import authenticate
from loupe.settings import Settings

__all__ = ["Reader", "Writer"]

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer lp_...`")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def _write_session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    # scope="function" below: the commit happens before the response is sent, so
    # an acknowledged write is a committed write.
    with db.transaction() as session:
        yield session


def _read_session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    with db.transaction(readonly=True) as session:
        yield session


def _actor(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <token>' "
            "(create one with `loupe users token USERNAME`)"
        )
    return authenticate(session, credentials.credentials)


@dataclass(frozen=True, slots=True)
class Context:
    session: Session
    actor: Actor
    settings: Settings
    db: Database


def _writer(
    request: Request,
    session: Annotated[Session, Depends(_write_session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Context:
    return Context(session, _actor(session, credentials), settings(request), database(request))


def _reader(
    request: Request,
    session: Annotated[Session, Depends(_read_session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Context:
    return Context(session, _actor(session, credentials), settings(request), database(request))


Writer = Annotated[Context, Depends(_writer)]
Reader = Annotated[Context, Depends(_reader)]
