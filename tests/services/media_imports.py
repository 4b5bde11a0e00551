"""What the image and audio import tests share (``test_media.py``, ``test_media_audio.py``):
rows written to a JSON Lines file and imported
from it or from a folder through the gate, the stored ``item_media`` rows, and a manager
cleared to reveal originals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.vault import Vault
from loupe.services.projects.imports import import_folder, import_stream
from loupe.services.projects.items import ImportResult
from loupe.services.projects.media import MediaIngest
from loupe.services.projects.media_sources import LocalMedia
from loupe.settings import Settings
from loupe.storage import BlobStore


def write_rows(folder: Path, rows: list[dict[str, Any]]) -> Path:
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def run_import(
    db: Database, project: int, path: Path, config: Settings, store: BlobStore
) -> ImportResult:
    """Import the rows of ``path`` (media paths relative to its folder) through the gate."""

    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        with path.open(encoding="utf-8") as stream:
            yield stream

    media = MediaIngest(LocalMedia(path.parent, config), config, store)
    with gate_for(config) as gate:
        return import_stream(
            db, Actor.system(), project, reopen=reopen, fmt="jsonl", gate=gate, media=media
        )


def import_media_folder(
    db: Database, project: int, folder: Path, config: Settings, store: BlobStore
) -> ImportResult:
    """Import every media file under ``folder`` through the gate."""
    media = MediaIngest(LocalMedia(folder, config), config, store)
    with gate_for(config) as gate:
        return import_folder(db, Actor.system(), project, folder, media=media, gate=gate)


def media_rows(db: Database) -> list[ItemMedia]:
    with db.transaction(readonly=True) as session:
        rows = list(session.scalars(select(ItemMedia).order_by(ItemMedia.item_id)))
        session.expunge_all()
    return rows


def vault_of(config: Settings) -> Vault:
    vault = gate_for(config).vault
    assert vault is not None
    return vault
