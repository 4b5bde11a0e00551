"""Plain-SQL statements about the ``reviews`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class OwnReview(NamedTuple):
    id: int
    verdict: str


# :user's review of label :label, if any.
OWN_REVIEW = Query(
    "SELECT id, verdict FROM reviews WHERE label_id = :label AND reviewer_id = :user", OwnReview
)


class InsertedReview(NamedTuple):
    id: int


INSERT_REVIEW = Query(
    "INSERT INTO reviews (project_id, item_id, label_id, labeller_id, reviewer_id, verdict, "
    "reason, reviewed_answer, corrected_answer, created_at) VALUES (:project, :item, :label, "
    ":labeller, :reviewer, :verdict, :reason, :answer, :corrected, :now) RETURNING id",
    InsertedReview,
)


class GivenVerdict(NamedTuple):
    reviewer_id: int
    verdict: str
    corrected_answer: Any  # JSON (None but for corrections): read with Raw.json_out


# The verdicts on label :label, in the order they were given.
VERDICTS_ON_LABEL = Query(
    "SELECT reviewer_id, verdict, corrected_answer FROM reviews WHERE label_id = :label "
    "ORDER BY id",
    GivenVerdict,
)
