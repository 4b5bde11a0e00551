"""Plain-SQL statements about the ``browser_sessions`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class SessionUser(NamedTuple):
    id: int
    username: str
    role: str
    is_active: bool
    csrf_token: str
    expires_at: Any  # read with Raw.time_out


SESSION_USER = Query(
    "SELECT u.id, u.username, u.role, u.is_active, s.csrf_token, s.expires_at "
    "FROM browser_sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_hash = :hash",
    SessionUser,
)
