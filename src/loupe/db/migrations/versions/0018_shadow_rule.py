"""shadow rule: ``loop_configs.shadow_min_items`` and ``loop_configs.shadow_max_drop``
(issue 17: the shadow decision rule's thresholds are per-project loop settings)

Existing projects get today's constants (20 items, a 0.02 drop) through the server
defaults, so their retrains decide exactly as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loop_configs") as batch:
        batch.add_column(
            sa.Column("shadow_min_items", sa.Integer(), server_default="20", nullable=False)
        )
        batch.add_column(
            sa.Column("shadow_max_drop", sa.Float(), server_default="0.02", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("loop_configs") as batch:
        batch.drop_column("shadow_max_drop")
        batch.drop_column("shadow_min_items")
