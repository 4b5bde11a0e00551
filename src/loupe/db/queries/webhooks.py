"""Plain-SQL statements about the ``webhooks`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class Subscriber(NamedTuple):
    id: int
    events: Any  # JSON list of event types: read with Raw.json_out


ACTIVE_WEBHOOKS = Query(
    "SELECT id, events FROM webhooks WHERE project_id = :project AND active = :true", Subscriber
)
