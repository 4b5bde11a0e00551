"""media: ``item_media``, the media parts of items (issue 16: images end to end)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "item_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("sealed_blob", sa.String(length=100), nullable=True),
        sa.Column("key_id", sa.String(length=300), nullable=True),
        sa.Column("regions", _JSON, nullable=False),
        sa.Column("checks", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_item_media_item_id_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_item_media_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_item_media"),
        sa.UniqueConstraint("item_id", "field", name="uq_item_media_item_id"),
    )
    op.create_index("ix_item_media_sha256", "item_media", ["sha256"])
    op.create_index("ix_item_media_project", "item_media", ["project_id", "item_id"])
    op.create_index("ix_item_media_key_id", "item_media", ["key_id"])


def downgrade() -> None:
    op.drop_table("item_media")
