"""Revision 0018: the shadow rule's thresholds become loop settings, as they were."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from loupe.db.database import Database
from loupe.db.migrate import upgrade
from loupe.learning.shadow import SHADOW_MAX_DROP, SHADOW_MIN_ITEMS


def test_existing_projects_keep_the_constants(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db.engine, "0017")
    now = "2026-01-01 00:00:00"
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, description, guidelines, overlap, config, "
                "config_version, created_at, updated_at) "
                "VALUES (1, 'p', '', '', 1, '{}', 1, :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO loop_configs (project_id, mix, audit_share, label_share, trainer, "
                "seed, batches, labels_at_train, updated_at) "
                "VALUES (1, '{\"margin\": 1.0}', 0.1, 0.2, 'tfidf-linear', 0, 0, 0, :now)"
            ),
            {"now": now},
        )
    db.migrate()
    with db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT shadow_min_items, shadow_max_drop FROM loop_configs")
        ).one()
    db.dispose()
    assert tuple(row) == (SHADOW_MIN_ITEMS, SHADOW_MAX_DROP)
