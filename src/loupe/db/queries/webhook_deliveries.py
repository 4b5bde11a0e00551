"""Plain-SQL statements about the ``webhook_deliveries`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

QUEUE_DELIVERY = (
    "INSERT INTO webhook_deliveries (delivery_id, event_id, webhook_id, event, body, status, "
    "attempts, next_attempt_at, created_at) "
    "VALUES (:delivery, :event_id, :webhook, :event, :body, 'pending', 0, :now, :now)"
)
