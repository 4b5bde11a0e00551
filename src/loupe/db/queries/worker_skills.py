"""Plain-SQL statements about the ``worker_skills`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from loupe.db.raw import Query


class FittedSkill(NamedTuple):
    user_id: int
    accuracy: float
    confusion: Any  # JSON: the confusion matrix, or None


def fitted_skills_of(params: Iterable[str]) -> Query[FittedSkill]:
    """The fitted skills in project ``:project`` of the users whose ids are bound to
    ``params`` (parameter names)."""
    return Query(
        "SELECT user_id, accuracy, confusion FROM worker_skills WHERE project_id = :project "
        "AND user_id IN (" + ", ".join(":" + name for name in params) + ")",
        FittedSkill,
    )
