"""erasure: keyed subject refs, model lineage without external ids, erasure marks on models

``model_versions.training_ids`` held external ids (which may be emails); they become the
internal item ids. An id whose item no longer exists (erased or purged since) cannot be
mapped: it is dropped and the version marked ``trained_on_erased_at`` (retired), so its
model file is deleted after the next erasure and the project is retrained.
``training_hash`` keeps its value (a digest over the whole list, not an id).

Subject refs become keyed (``hmac:<hex>``, key in the key directory). Existing
``sha256:<hex>`` refs cannot be re-keyed without the subject ids, and the rows that hold
them (erasure receipts, whose sha256 was handed out; the hash-chained audit log) must not
change: they are kept, and lookups by subject id try both forms.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _ids(value: Any) -> list[Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return list(loaded or [])


def upgrade() -> None:
    op.add_column("model_versions", sa.Column("trained_on_erased_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    versions = sa.table(
        "model_versions",
        sa.column("id", sa.Integer()),
        sa.column("project_id", sa.Integer()),
        sa.column("training_ids", json_type),
        sa.column("trained_on_erased_at", sa.DateTime()),
    )
    items = sa.table(
        "items",
        sa.column("id", sa.Integer()),
        sa.column("project_id", sa.Integer()),
        sa.column("external_id", sa.String()),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = bind.execute(sa.select(versions.c.id, versions.c.project_id, versions.c.training_ids))
    mapping: dict[int, dict[str, int]] = {}
    for version_id, project_id, training_ids in rows.all():
        if project_id not in mapping:
            mapping[project_id] = {
                str(ext): int(item_id)
                for item_id, ext in bind.execute(
                    sa.select(items.c.id, items.c.external_id).where(
                        items.c.project_id == project_id
                    )
                )
            }
        known = mapping[project_id]
        old = [str(i) for i in _ids(training_ids)]
        new = [known[i] for i in old if i in known]
        values: dict[str, Any] = {"training_ids": new}
        if len(new) < len(old):
            values["trained_on_erased_at"] = now
        bind.execute(versions.update().where(versions.c.id == version_id).values(**values))


def downgrade() -> None:
    # Internal ids stay: turning them back into external ids would restore what the
    # upgrade removed, and internal ids are valid (if less readable) lineage.
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("trained_on_erased_at")
