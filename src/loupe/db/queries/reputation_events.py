"""Plain-SQL statements about the ``reputation_events`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

INSERT_REPUTATION_EVENT = (
    "INSERT INTO reputation_events (user_id, domain, project_id, kind, success, weight, ref, "
    "created_at) VALUES (:user, :domain, :project, :kind, :success, :weight, :ref, :now)"
)
