"""Plain-SQL statements about the ``api_tokens`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class TokenUser(NamedTuple):
    id: int
    username: str
    role: str
    is_active: bool
    expires_at: Any  # None: never; read with Raw.time_out


# The user of a live (unrevoked) API token.
TOKEN_USER = Query(
    "SELECT u.id, u.username, u.role, u.is_active, t.expires_at FROM api_tokens t "
    "JOIN users u ON u.id = t.user_id WHERE t.token_hash = :hash AND t.revoked_at IS NULL",
    TokenUser,
)
