"""Plain-SQL statements about the ``review_leases`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query


class HeldReview(NamedTuple):
    label_id: int


# The review lease :user holds in :project at :now, on a label still pending, if any.
HELD_REVIEW = Query(
    "SELECT rl.label_id FROM review_leases rl JOIN review_queue q ON q.label_id = rl.label_id "
    "WHERE rl.user_id = :user AND q.project_id = :project AND rl.expires_at > :now "
    "AND q.status = 'pending' ORDER BY rl.label_id LIMIT 1",
    HeldReview,
)
# Leases label :label to :user for review until :expires.
LEASE_REVIEW = (
    "INSERT INTO review_leases (label_id, user_id, expires_at) VALUES (:label, :user, :expires)"
)
RELEASE_REVIEW = "DELETE FROM review_leases WHERE label_id = :label AND user_id = :user"


class OwnReviewLease(NamedTuple):
    found: int


# A row when :user holds an unexpired lease on label :label.
OWN_REVIEW_LEASE = Query(
    "SELECT 1 FROM review_leases WHERE label_id = :label AND user_id = :user AND expires_at > :now",
    OwnReviewLease,
)


class OtherReviewLeases(NamedTuple):
    leases: int


# Unexpired leases on label :label held by anyone but :user.
OTHER_REVIEW_LEASES = Query(
    "SELECT count(*) FROM review_leases WHERE label_id = :label AND user_id <> :user "
    "AND expires_at > :now",
    OtherReviewLeases,
)
