"""project_lifecycle: archived projects, deleted projects' ids, item comments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 23:45:00

``projects.archived_at`` / ``archived_by``: an archived project serves no work and takes
no imports or labels but stays readable. ``archived_by`` is a plain user id, like the
audit log's ``actor_id`` (adding a foreign key to ``projects`` would make SQLite rebuild
the table). ``deleted_projects`` keeps the id of every deleted project so that no new
project reuses it: the payment log's entries name their project by id, for ever.
``item_comments`` holds people's comments on items (gated text), deleted with the item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends (no batch: SQLite must not rebuild ``projects``,
    # whose rows every other table references with ON DELETE CASCADE).
    op.add_column("projects", sa.Column("archived_at", sa.DateTime(), nullable=True))
    op.add_column("projects", sa.Column("archived_by", sa.Integer(), nullable=True))
    op.create_table(
        "deleted_projects",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deleted_projects")),
    )
    op.create_table(
        "item_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_comments_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_item_comments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_item_comments_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_comments")),
    )
    op.create_index("ix_item_comments_item", "item_comments", ["item_id", "id"], unique=False)
    op.create_index(
        op.f("ix_item_comments_project_id"), "item_comments", ["project_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_item_comments_project_id"), table_name="item_comments")
    op.drop_index("ix_item_comments_item", table_name="item_comments")
    op.drop_table("item_comments")
    op.drop_table("deleted_projects")
    # Native DROP COLUMN (SQLite 3.35+), again without rebuilding ``projects``.
    op.drop_column("projects", "archived_by")
    op.drop_column("projects", "archived_at")
