"""Plain-SQL statements about the ``skips`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

# :user passes on :item: it is never offered to them again.
SKIP_ITEM = (
    "INSERT INTO skips (item_id, user_id, created_at) VALUES (:item, :user, :now) "
    "ON CONFLICT (item_id, user_id) DO NOTHING"
)
