"""Plain-SQL statements about the ``clearances`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query


class ClearedProject(NamedTuple):
    project_id: int


# The projects where ``:user`` holds a live clearance for ``:voice``.
VOICE_CLEARED_PROJECTS = Query(
    "SELECT project_id FROM clearances WHERE user_id = :user AND sensitivity = :voice "
    "AND (expires_at IS NULL OR expires_at > :now)",
    ClearedProject,
)


class VoiceClearance(NamedTuple):
    found: int


VOICE_CLEARANCE_IN_PROJECT = Query(
    "SELECT 1 FROM clearances WHERE user_id = :user AND project_id = :project "
    "AND sensitivity = :voice AND (expires_at IS NULL OR expires_at > :now)",
    VoiceClearance,
)
