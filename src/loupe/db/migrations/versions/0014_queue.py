"""queue: the partial index ``ix_items_open`` that next task's queue walk starts from

Only items next task may hand out (not complete, not withheld, not gold), in id
order per project: the first open item is a one-row index lookup whatever the
planner's statistics say (issue 18: before the first ANALYZE after a bulk import,
PostgreSQL sorted all 100,000 rows for every next task).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# As loupe.db.models.OPEN_ITEM (a migration never imports the models, which change).
_OPEN = "NOT is_complete AND NOT withheld AND NOT is_gold"


def upgrade() -> None:
    op.create_index(
        "ix_items_open",
        "items",
        ["project_id", "id"],
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_items_open", table_name="items")
