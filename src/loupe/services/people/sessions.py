"""Browser sessions: sign in with a password, a cookie secret, a per-session CSRF token.

The cookie carries a 256-bit random secret; the database keeps its SHA-256 (a copy of
the database signs nobody in). Each session has its own CSRF token: every form posts
it back and every cookie-authenticated API write sends it as ``X-CSRF-Token``, so a
page on another site cannot act with the user's cookie. Sessions expire after
``LOUPE_SESSION_HOURS``; expired rows are removed at the next sign-in. Each sign-in
is recorded in the audit log (``user.login``).

Sign-in is throttled per account and per client address, in the database (so it holds
across server processes): after :data:`MAX_FAILURES` failed attempts in a row on an
account (:data:`MAX_CLIENT_FAILURES` from one address, within :data:`WINDOW`) every
attempt, right or wrong, is refused with :class:`TooManyRequests` for a lockout that
doubles with each further failure, from :data:`LOCKOUT` up to :data:`MAX_LOCKOUT`.
A success clears the account's count; an address's count lapses after :data:`WINDOW`.
Each lockout is audited (``user.login_locked``).

Example (in a transaction)::

    issued = start_session(session, username="maya", password="...", hours=12)
    current = resolve_session(session, issued.secret)   # on every request
    end_session(session, issued.secret)                  # sign out
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.queries.browser_sessions import SESSION_USER
from loupe.db.raw import Raw
from loupe.db.session_models import BrowserSession, LoginThrottle
from loupe.errors import PermissionDenied, TooManyRequests, Unauthenticated
from loupe.services.access import Actor
from loupe.services.compliance import audit_log
from loupe.services.people.users import verify_password

__all__ = [
    "CurrentSession",
    "IssuedSession",
    "check_csrf",
    "check_throttle",
    "end_session",
    "record_failed_login",
    "resolve_session",
    "start_session",
]

MAX_FAILURES = 5  # per account
MAX_CLIENT_FAILURES = 20  # per client address (many accounts tried from one place)
LOCKOUT = timedelta(seconds=30)  # the first lockout; doubled with each further failure
MAX_LOCKOUT = timedelta(hours=1)
WINDOW = timedelta(minutes=15)  # a count lapses this long after its last failure


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
    client: str | None = None,
    now: datetime | None = None,
) -> IssuedSession:
    """Check the password and open a session; :class:`Unauthenticated` if it is wrong,
    :class:`TooManyRequests` (before the password is even checked) while locked out.

    The caller records a failure with :func:`record_failed_login` in a transaction of
    its own (this one rolls back with the error).
    """
    now = now or utcnow()
    check_throttle(session, username=username, client=client, now=now)
    actor = verify_password(session, username=username, password=password)
    assert actor.user_id is not None
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _user_key(username)))
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
    audit_log.record(
        session, actor, "user.login", target=f"user:{actor.user_id}", details={}, now=now
    )
    return IssuedSession(secret, row.csrf_token, row.expires_at, actor)


def resolve_session(
    session: Session, secret: str, *, now: datetime | None = None
) -> CurrentSession:
    """The live session a cookie secret belongs to, or :class:`Unauthenticated`.

    Runs on every cookie-authenticated request, so it is one plain-SQL statement
    (see ``loupe.db.raw``).
    """
    raw = Raw(session)
    user = raw.one(SESSION_USER, hash=_hash(secret))
    if user is None or not user.is_active or raw.time_out(user.expires_at) <= (now or utcnow()):
        raise Unauthenticated("your session has expired or was ended; sign in again")
    return CurrentSession(
        actor=Actor(user_id=user.id, username=user.username, role=user.role),
        csrf_token=user.csrf_token,
        expires_at=raw.time_out(user.expires_at),
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


# --- throttling -----------------------------------------------------------------------------


def _user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:64]


def _keys(username: str, client: str | None) -> list[tuple[str, int]]:
    keys = [(_user_key(username), MAX_FAILURES)]
    if client:
        keys.append(("client:" + client[:100], MAX_CLIENT_FAILURES))
    return keys


def check_throttle(session: Session, *, username: str, client: str | None, now: datetime) -> None:
    """:class:`TooManyRequests` while the account or the client address is locked out."""
    for key, _ in _keys(username, client):
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            wait = max(1, math.ceil((row.locked_until - now).total_seconds()))
            raise TooManyRequests(
                f"too many failed sign-ins; try again in {wait} seconds (or ask an admin "
                "to set a new password with `loupe users password USERNAME`)",
                details={"retry_after": wait},
            )


def record_failed_login(
    session: Session, *, username: str, client: str | None, now: datetime | None = None
) -> None:
    """Count a failed sign-in against the account and the client address; lock either
    out once it reaches its limit (audited as ``user.login_locked``)."""
    now = now or utcnow()
    for key, limit in _keys(username, client):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif row.last_failure_at <= now - WINDOW:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= limit:
            doubling = min(row.failures - limit, 16)
            lockout = min(LOCKOUT * (2**doubling), MAX_LOCKOUT)
            row.locked_until = now + lockout
            audit_log.record(
                session,
                None,
                "user.login_locked",
                target=key,
                details={
                    "failures": row.failures,
                    "seconds": int(lockout.total_seconds()),
                },
                now=now,
            )
    session.flush()
