"""anchor: the chain transaction that anchors each anchored checkpoint

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 23:20:00

``ledger_anchors`` holds one row per anchoring transaction (``loupe ledger anchor``):
the checkpoint it anchors, the chain, the sending account, the 32-byte payload (the
SHA-256 of the checkpoint's signed text; nothing else goes on the chain), the signed raw
transaction (so an unconfirmed one can be sent again) and, once mined, its block and gas.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("payload", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["ledger_checkpoints.id"],
            name=op.f("fk_ledger_anchors_checkpoint_id_ledger_checkpoints"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_anchors")),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_ledger_anchors_tx_hash")),
    )
    op.create_index(op.f("ix_ledger_anchors_checkpoint_id"), "ledger_anchors", ["checkpoint_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_anchors_checkpoint_id"), table_name="ledger_anchors")
    op.drop_table("ledger_anchors")
