"""gate: special-category data (health) needs a clearance unless a manager opens it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 20:30:00

Projects made before this revision routed health items to everyone unless their routing
listed ``clearance_for``. The safe default now lists ``health``; existing projects get it
too (their current config and its history row), since nobody chose to open it: a manager
who wants it open says so again, and that choice is audited.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
projects = sa.table(
    "projects", sa.column("id", sa.Integer), sa.column("config", _JSON),
    sa.column("config_version", sa.Integer),
)  # fmt: skip
configs = sa.table(
    "project_configs", sa.column("project_id", sa.Integer), sa.column("version", sa.Integer),
    sa.column("config", _JSON),
)  # fmt: skip


def _closed(config: Any) -> Any:
    if not isinstance(config, dict):
        return config
    routing = dict(config.get("routing") or {})
    listed = list(routing.get("clearance_for", []))
    if "health" in listed:
        return config
    routing["clearance_for"] = [*listed, "health"]
    return {**config, "routing": routing}


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(projects.c.id, projects.c.config, projects.c.config_version)
    )
    for project_id, config, version in rows.all():
        closed = _closed(config)
        if closed == config:
            continue
        connection.execute(
            projects.update().where(projects.c.id == project_id).values(config=closed)
        )
        connection.execute(
            configs.update()
            .where(configs.c.project_id == project_id, configs.c.version == version)
            .values(config=closed)
        )


def downgrade() -> None:
    pass  # leaves health closed: re-opening special-category data is a manager's choice
