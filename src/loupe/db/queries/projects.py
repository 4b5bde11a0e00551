"""Plain-SQL statements about the ``projects`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class ProjectConfig(NamedTuple):
    config: Any  # JSON: read with Raw.json_out


PROJECT_CONFIG = Query("SELECT config FROM projects WHERE id = :project", ProjectConfig)


class ProjectId(NamedTuple):
    id: int


ALL_PROJECT_IDS = Query("SELECT id FROM projects", ProjectId)


class ProjectAndRole(NamedTuple):
    id: int
    overlap: int
    config: Any  # JSON: read with Raw.json_out
    config_version: int
    created_at: Any  # read with Raw.time_out
    role: str | None  # the user's membership role, None when not a member
    paused_reason: str | None
    archived_at: Any  # None unless archived


PROJECT_AND_ROLE = Query(
    "SELECT p.id, p.overlap, p.config, p.config_version, p.created_at, m.role, m.paused_reason, "
    "p.archived_at "
    "FROM projects p LEFT JOIN memberships m ON m.project_id = p.id AND m.user_id = :user "
    "WHERE p.id = :project",
    ProjectAndRole,
)
