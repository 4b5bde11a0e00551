"""access: login throttling, deactivation, token expiry, per-project clearances

Clearances become per project. Existing (global) clearances are dropped, not copied to
every project: a global clearance may have been granted by any manager, and copying it
would keep exactly the access the fix takes away. Admins grant them again per project
(``POST /api/v1/clearances`` with ``project_id``); each grant is audited.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _clearances(*, per_project: bool) -> None:
    columns: list[sa.Column[object] | sa.Constraint] = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
    ]
    if per_project:
        columns.append(sa.Column("project_id", sa.Integer(), nullable=False))
    columns += [
        sa.Column("sensitivity", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_clearances_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
            name=op.f("fk_clearances_granted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearances")),
    ]
    if per_project:
        columns += [
            sa.ForeignKeyConstraint(
                ["project_id"],
                ["projects.id"],
                name=op.f("fk_clearances_project_id_projects"),
                ondelete="CASCADE",
            ),
            sa.UniqueConstraint(
                "user_id", "project_id", "sensitivity", name=op.f("uq_clearances_user_id")
            ),
        ]
    else:
        columns.append(
            sa.UniqueConstraint("user_id", "sensitivity", name=op.f("uq_clearances_user_id"))
        )
    op.create_table("clearances", *columns)
    if per_project:
        op.create_index(
            op.f("ix_clearances_project_id"), "clearances", ["project_id"], unique=False
        )


def upgrade() -> None:
    # The safe migration: global clearances are dropped (see the module docstring).
    op.drop_table("clearances")
    _clearances(per_project=True)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    op.drop_index(op.f("ix_clearances_project_id"), table_name="clearances")
    op.drop_table("clearances")
    _clearances(per_project=False)
