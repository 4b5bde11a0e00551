"""Plain-SQL statements about the ``rate_cards`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class CardAndTier(NamedTuple):
    version: int
    card: Any  # JSON: read with Raw.json_out
    role: str | None  # the user's role in the project, None when not a member


# The project's current rate card and the user's role there (the rate's tier).
CARD_AND_TIER = Query(
    "SELECT r.version, r.card, (SELECT m.role FROM memberships m "
    "WHERE m.project_id = :project AND m.user_id = :user) "
    "FROM rate_cards r WHERE r.project_id = :project ORDER BY r.version DESC LIMIT 1",
    CardAndTier,
)
