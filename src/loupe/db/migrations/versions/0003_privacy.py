"""privacy: sealed raw content, subject keys, clearances, audit log, erasure receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(
            sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal")
        )
        batch.add_column(sa.Column("subject_id", sa.String(255), nullable=True))
        batch.add_column(
            sa.Column("withheld", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_items_subject_id", ["subject_id"])
    op.create_table(
        "project_privacy",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("gate", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_privacy_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_privacy")),
    )
    op.create_table(
        "subject_keys",
        sa.Column("key_id", sa.String(300), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_subject_keys")),
    )
    op.create_table(
        "item_vaults",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(300), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("spans", JSON, nullable=False),
        sa.Column("detected", JSON, nullable=False),
        sa.Column("withheld_reason", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_vaults_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_vaults")),
    )
    op.create_index("ix_item_vaults_key_id", "item_vaults", ["key_id"])
    op.create_table(
        "clearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
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
        sa.UniqueConstraint("user_id", "sensitivity", name=op.f("uq_clearances_user_id")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_project_id", "audit_log", ["project_id"])
    op.create_table(
        "erasure_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_ref", sa.String(71), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_receipts")),
    )
    op.create_index("ix_erasure_receipts_subject_ref", "erasure_receipts", ["subject_ref"])


def downgrade() -> None:
    op.drop_table("erasure_receipts")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    op.drop_table("clearances")
    op.drop_table("item_vaults")
    op.drop_table("subject_keys")
    op.drop_table("project_privacy")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_subject_id")
        batch.drop_column("withheld")
        batch.drop_column("subject_id")
        batch.drop_column("sensitivity")
