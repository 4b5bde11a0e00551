"""Browser sessions: sign in with a password, a cookie secret, a per-session CSRF token.

The cookie carries a 256-bit random secret; the database keeps its SHA-256 (a copy of
the database signs nobody in). Each session has its own CSRF token: every form posts
it back and every cookie-authenticated API write sends it as ``X-CSRF-Token``, so a
page on another site cannot act with the user's cookie. Sessions expire after
``LOUPE_SESSION_HOURS``; expired rows are removed at the next sign-in. Each sign-in
is recorded in the audit log (``user.login``).

Example (in a transaction)::

    issued = start_session(session, username="maya", password="...", hours=12)
    current = resolve_session(session, issued.secret)   # on every request
    end_session(session, issued.secret)                  # sign out
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.db.session_models import BrowserSession
from loupe.errors import PermissionDenied, Unauthenticated
from loupe.services import audit
from loupe.services.access import Actor
from loupe.services.users import verify_password

__all__ = [
    "CurrentSession",
    "IssuedSession",
    "check_csrf",
    "end_session",
    "resolve_session",
    "start_session",
]


@dataclass(frozen=True, slots=True)
class IssuedSession:
    secret: str  # for the cookie; the only time the plaintext exists
    csrf_token: str
    expires_at: datetime
    actor: Actor


@dataclass(frozen=True, slots=True)
class CurrentSession:
    actor: Actor
    csrf_token: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(
    session: Session,
    *,
    username: str,
    password: str,
    hours: float,
    now: datetime | None = None,
) -> IssuedSession:
    """Check the password and open a session; :class:`Unauthenticated` if it is wrong."""
    actor = verify_password(session, username=username, password=password)
    assert actor.user_id is not None
    now = now or utcnow()
    session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= now))
    secret = secrets.token_urlsafe(32)
    row = BrowserSession(
        secret_hash=_hash(secret),
        user_id=actor.user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "user.login", target=f"user:{actor.user_id}", details={}, now=now)
    return IssuedSession(secret, row.csrf_token, row.expires_at, actor)


_RESOLVE = (
    "SELECT u.id, u.username, u.role, u.is_active, s.csrf_token, s.expires_at "
    "FROM browser_sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_hash = :hash"
)


def resolve_session(
    session: Session, secret: str, *, now: datetime | None = None
) -> CurrentSession:
    """The live session a cookie secret belongs to, or :class:`Unauthenticated`.

    Runs on every cookie-authenticated request, so it is one plain-SQL statement
    (see ``loupe.db.raw``).
    """
    raw = Raw(session)
    row = raw.one(_RESOLVE, hash=_hash(secret))
    if row is None or not row[3] or raw.time_out(row[5]) <= (now or utcnow()):
        raise Unauthenticated("your session has expired or was ended; sign in again")
    return CurrentSession(
        actor=Actor(user_id=row[0], username=row[1], role=row[2]),
        csrf_token=row[4],
        expires_at=raw.time_out(row[5]),
    )


def check_csrf(current: CurrentSession, token: str | None) -> None:
    """:class:`PermissionDenied` unless ``token`` is this session's CSRF token."""
    if not token or not hmac.compare_digest(token.encode(), current.csrf_token.encode()):
        raise PermissionDenied(
            "the form's CSRF token is missing or stale; reload the page and try again",
            details={"reason": "csrf"},
        )


def end_session(session: Session, secret: str) -> None:
    """Sign out: the session row is deleted, so the cookie no longer works anywhere."""
    session.execute(delete(BrowserSession).where(BrowserSession.secret_hash == _hash(secret)))
