"""audio: ``item_media.sample_rate`` for audio parts (issue 20: audio end to end)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_media") as batch:
        batch.add_column(sa.Column("sample_rate", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_media") as batch:
        batch.drop_column("sample_rate")
