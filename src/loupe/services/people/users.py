"""Users, their API tokens and their web UI passwords.

Tokens are 256-bit random strings shown once; the database keeps only their
SHA-256. A slow password hash (bcrypt, scrypt) would add nothing there: it
protects low-entropy secrets, and tokens are not.

Passwords are low-entropy, so they get a slow, memory-hard hash: scrypt from the
standard library (``hashlib.scrypt``, OpenSSL's implementation), stored as
``scrypt$n$r$p$salt$hash``. No bcrypt dependency is needed: scrypt is at least as
strong against GPU guessing (it is memory-hard; bcrypt is not), has no 72-byte
input limit, and the parameters travel with each hash so they can be raised later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loupe.db.contributor_models import ReviewLease
from loupe.db.models import ApiToken, Assignment, User, utcnow
from loupe.db.queries.api_tokens import TOKEN_USER
from loupe.db.raw import Raw
from loupe.db.session_models import BrowserSession
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from loupe.permissions import ROLES
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log

__all__ = [
    "IssuedToken",
    "actors_named",
    "authenticate",
    "count_users",
    "create_user",
    "find_user_id",
    "get_user",
    "hash_password",
    "issue_token",
    "list_tokens",
    "list_users",
    "password_matches",
    "revoke_token",
    "set_active",
    "set_password",
    "verify_password",
]

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
TOKEN_PREFIX = "lp_"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the plaintext exists


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    session: Session, actor: Actor, *, username: str, role: str, display_name: str = ""
) -> User:
    authorize(actor, "users.manage")
    if not USERNAME.match(username):
        raise InvalidInput(
            "username: use 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter "
            "or digit",
            details={"field": "username"},
        )
    if role not in ROLES:
        raise InvalidInput(
            f"role: {role!r} is not a role; use one of {', '.join(ROLES)}",
            details={"field": "role", "allowed": list(ROLES)},
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} already exists", details={"field": "username"})
    user = User(username=username, role=role, display_name=display_name or username)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a user named {username!r} already exists") from None
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    return user


def list_users(session: Session, actor: Actor, *, after_id: int, limit: int) -> Sequence[User]:
    authorize(actor, "users.list")
    return session.scalars(
        select(User).where(User.id > after_id).order_by(User.id).limit(limit)
    ).all()


def issue_token(
    session: Session,
    actor: Actor,
    *,
    user_id: int,
    name: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new token for ``user_id``: users may issue their own; admins anyone's.

    ``expires_at`` (optional): the token stops working then; ``None`` (the default)
    means until revoked.
    """
    if actor.user_id != user_id:
        authorize(actor, "users.manage")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= (now or utcnow())):
        raise InvalidInput(
            "expires_at: must be a future time with a timezone (e.g. 2030-01-01T00:00:00Z)",
            details={"field": "expires_at"},
        )
    get_user(session, user_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=name,
        prefix=secret[:10],
        token_hash=_hash(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def list_tokens(session: Session, actor: Actor, *, user_id: int) -> Sequence[ApiToken]:
    if actor.user_id != user_id:
        authorize(actor, "users.manage")
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    ).all()


def revoke_token(session: Session, actor: Actor, *, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (actor.user_id != token.user_id and actor.role != "admin"):
        # Someone else's token is "not found", so ids reveal nothing.
        raise NotFound(f"token {token_id} does not exist", details={"token_id": token_id})
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Actor:
    """The actor a bearer token belongs to, or :class:`Unauthenticated`."""
    raw = Raw(session)
    user = raw.one(TOKEN_USER, hash=_hash(secret))
    if (
        user is None
        or not user.is_active
        or (user.expires_at is not None and raw.time_out(user.expires_at) <= (now or utcnow()))
    ):
        raise Unauthenticated(
            "the API token is unknown, revoked, expired or its user deactivated; "
            "send 'Authorization: Bearer <token>' with a valid token"
        )
    return Actor(user_id=user.id, username=user.username, role=user.role)


# Every request runs this: plain SQL (see loupe.db.raw for why).
# --- passwords ------------------------------------------------------------------------------

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# scrypt cost: n=2**14, r=8 (16 MiB, ~50 ms): OWASP's recommended floor for scrypt.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for ``password``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def password_matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches a stored hash (constant-time compare)."""
    if not stored or len(password) > MAX_PASSWORD:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def set_password(session: Session, actor: Actor, *, user_id: int, password: str) -> User:
    """Set a user's web UI password: users may set their own; admins anyone's.

    Every browser session of the user ends at once (a stolen session does not outlive
    the password change); API tokens are separate credentials, revoked on their own.
    Audited (``user.password``).
    """
    if actor.user_id != user_id:
        authorize(actor, "users.manage")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"password: use {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            details={"field": "password"},
        )
    user = get_user(session, user_id)
    user.password_hash = hash_password(password)
    ended = _end_sessions(session, user_id)
    session.flush()
    audit_log.record(
        session, actor, "user.password", target=f"user:{user_id}", details={"sessions": ended}
    )
    return user


def _end_sessions(session: Session, user_id: int) -> int:
    result = session.execute(delete(BrowserSession).where(BrowserSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def set_active(session: Session, actor: Actor, *, user_id: int, active: bool) -> User:
    """Deactivate or reactivate a user (admins only; never oneself). Audited.

    A deactivated user cannot sign in; their sessions end and their API tokens stop
    working at once (tokens are checked against ``is_active`` on every request), and
    the tasks and reviews they had reserved go back to the queue. Reactivating lets
    their unrevoked tokens work again and lets them sign in.
    """
    authorize(actor, "users.manage")
    if not active and actor.user_id == user_id:
        raise PermissionDenied(
            "you cannot deactivate yourself; ask another admin",
            details={"action": "users.manage"},
        )
    user = get_user(session, user_id)
    details: dict[str, int] = {}
    if not active:
        details["sessions"] = _end_sessions(session, user_id)
        leases = session.execute(delete(Assignment).where(Assignment.user_id == user_id))
        details["leases"] = int(getattr(leases, "rowcount", 0) or 0)
        session.execute(delete(ReviewLease).where(ReviewLease.user_id == user_id))
    if user.is_active != active:
        user.is_active = active
        session.flush()
        action = "user.reactivate" if active else "user.deactivate"
        audit_log.record(session, actor, action, target=f"user:{user_id}", details=details)
    return user


# Hashed once so that an unknown username, or a user without a password, costs as much
# as a wrong password.
_DUMMY_HASH: list[str] = []


def verify_password(session: Session, *, username: str, password: str) -> Actor:
    """The actor whose username and password these are, or :class:`Unauthenticated`.

    The message is the same for an unknown user, a wrong password, a user without a
    password and a deactivated user, and so is the time it takes (one scrypt each), so
    sign-in reveals nothing about which it was.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash:
        # An account without a password (API tokens only) answered at once, without
        # hashing: the time told which usernames exist.
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
        password_matches(_DUMMY_HASH[0], password)
    elif password_matches(user.password_hash, password) and user.is_active:
        return Actor(user_id=user.id, username=user.username, role=user.role)
    raise Unauthenticated(
        "the username or password is wrong; an admin can set a password with "
        "`loupe users password USERNAME`"
    )


def count_users(session: Session) -> int:
    """How many users exist (0 on a fresh database)."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def find_user_id(session: Session, ref: str) -> int | None:
    """A user's id by username or else by numeric id; ``None`` when neither exists."""
    found = session.scalar(select(User.id).where(User.username == ref))
    if found is None and ref.isdigit() and session.get(User, int(ref)) is not None:
        found = int(ref)
    return found


def actors_named(session: Session, usernames: Sequence[str]) -> list[Actor]:
    """The users with these usernames, as actors (unknown names are left out)."""
    rows = session.execute(
        select(User.id, User.username, User.role).where(User.username.in_(usernames))
    ).all()
    return [Actor(user_id, username, role) for user_id, username, role in rows]
