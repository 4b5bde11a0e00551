"""Plain-SQL statements about the ``gold_results`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from loupe.db.raw import Query

INSERT_GOLD_RESULT = (
    "INSERT INTO gold_results (project_id, item_id, user_id, correct, created_at) "
    "VALUES (:project, :item, :user, :correct, :now) ON CONFLICT (item_id, user_id) DO NOTHING"
)


class GoldTally(NamedTuple):
    answered: int
    right: int


# A user's gold answers in a project: how many, and how many right.
USERS_GOLD_TALLY = Query(
    "SELECT count(*), coalesce(sum(CASE WHEN correct THEN 1 ELSE 0 END), 0) "
    "FROM gold_results WHERE project_id = :project AND user_id = :user",
    GoldTally,
)


class UserGoldTally(NamedTuple):
    user_id: int
    answered: int
    right: int


def gold_tallies_of(params: Iterable[str]) -> Query[UserGoldTally]:
    """The gold tallies in project ``:project`` of the users whose ids are bound to
    ``params`` (parameter names); users without gold answers have no row."""
    return Query(
        "SELECT user_id, count(*), coalesce(sum(CASE WHEN correct THEN 1 ELSE 0 END), 0) "
        "FROM gold_results WHERE project_id = :project AND user_id IN ("
        + ", ".join(":" + name for name in params)
        + ") GROUP BY user_id",
        UserGoldTally,
    )
