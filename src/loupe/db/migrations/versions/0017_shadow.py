"""shadow: ``model_versions.shadow_status`` and ``model_versions.shadow`` (issue 17: a
challenger is shadow-evaluated on live labelled items before it is promoted)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("shadow_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("shadow", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("shadow")
        batch.drop_column("shadow_status")
