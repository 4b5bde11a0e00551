"""Revision 0009: model lineage loses its external ids."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from loupe.db.database import Database
from loupe.db.migrate import upgrade


def test_external_training_ids_become_item_ids_and_lost_items_mark_the_version(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db.engine, "0008")
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
        for item_id, ext in ((7, "ana@example.org"), (8, "utt-2")):
            connection.execute(
                text(
                    "INSERT INTO items (id, project_id, external_id, data, metadata, domain, "
                    "label_count, is_complete, created_at) "
                    "VALUES (:id, 1, :ext, '{}', '{}', 'general', 0, 0, :now)"
                ),
                {"id": item_id, "ext": ext, "now": now},
            )
        for version, ids in ((1, ["ana@example.org", "utt-2"]), (2, ["utt-2", "gone@example.org"])):
            connection.execute(
                text(
                    "INSERT INTO model_versions (project_id, version, trainer, metrics, "
                    "n_control, training_ids, training_hash, gold_set, n_labels, cost_minor, "
                    "promoted, reason, created_at) VALUES (1, :v, 't', '{}', 0, :ids, 'h', "
                    "'g', 0, 0, 1, '', :now)"
                ),
                {"v": version, "ids": json.dumps(ids), "now": now},
            )
    db.migrate()
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT version, training_ids, trained_on_erased_at FROM model_versions "
                "ORDER BY version"
            )
        ).all()
    db.dispose()
    assert [(v, json.loads(ids), at is not None) for v, ids, at in rows] == [
        (1, [7, 8], False),
        (2, [8], True),  # trained on an item that is gone: retired
    ]
    assert b"@example.org" not in repr(rows).encode()
