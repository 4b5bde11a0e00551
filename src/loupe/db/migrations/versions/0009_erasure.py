"""erasure: keyed subject refs, model lineage without external ids, erasure marks on models

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
