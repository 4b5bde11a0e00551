"""Plain-SQL statements about the ``users`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query


class UserId(NamedTuple):
    id: int


ALL_USER_IDS = Query("SELECT id FROM users", UserId)
