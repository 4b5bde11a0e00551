"""``loupe import`` with images (rows naming files, or a folder) and ``loupe media gc``."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from tests.cli_run import run
from tests.factories import count, make_project
from tests.image_samples import assert_no_metadata, with_metadata

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.storage import LocalBlobStore

pytest.importorskip("cv2", reason="the images extra (OpenCV) is not installed")

MEDIA_SCHEMA = {
    "task": {"type": "single_choice", "labels": [{"key": "product"}, {"key": "sign"}]},
    "media": ["image"],
}


def picture(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, size=(6, 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.kron(cells, np.ones((8, 8, 1), dtype=np.uint8))).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOUPE_KEY_DIR", str(tmp_path / "loupe-keys"))
    monkeypatch.setenv("LOUPE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("LOUPE_IMAGE_OCR", "optional")
    return tmp_path / "media"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "shoot"
    (folder / "day1").mkdir(parents=True)
    for seed in range(3):
        (folder / "day1" / f"p{seed}.png").write_bytes(picture(seed))
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_import_rows_naming_images_relative_to_the_file(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    media_dir: Path,
    photos: Path,
) -> None:
    make_project(db, name="glasses", config=MEDIA_SCHEMA)
    rows = photos / "rows.jsonl"
    rows.write_text(
        json.dumps({"id": "a", "image": "day1/p0.png", "text": "what is this"})
        + "\n"
        + json.dumps({"id": "b", "image": "day1/p1.png"})
        + "\n"
    )
    code, out, err = run(capsys, "import", "glasses", str(rows), "--database-url", database_url)
    assert code == 0, err
    assert "2 rows: 2 new items" in out
    assert count(db, "item_media") == 2
    assert len(list(LocalBlobStore(media_dir).keys("media/"))) == 2


def test_a_bad_file_on_line_3_names_it_and_imports_nothing(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    media_dir: Path,
    photos: Path,
) -> None:
    make_project(db, name="glasses", config=MEDIA_SCHEMA)
    (photos / "day1" / "cut.png").write_bytes(picture(7)[:40])
    rows = photos / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"id": name, "image": f"day1/{name}"}) + "\n"
            for name in ("p0.png", "p1.png", "cut.png")
        )
    )
    code, _, err = run(capsys, "import", "glasses", str(rows), "--database-url", database_url)
    assert code != 0
    assert "line 3" in err and "day1/cut.png" in err
    assert (count(db, "items"), count(db, "item_media")) == (0, 0)
    assert not media_dir.exists() or list(LocalBlobStore(media_dir).keys()) == []


def test_import_a_folder_then_again_then_gc(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    media_dir: Path,
    photos: Path,
) -> None:
    make_project(db, name="glasses", config=MEDIA_SCHEMA)
    code, out, err = run(capsys, "import", "glasses", str(photos), "--database-url", database_url)
    assert code == 0, err
    assert "3 rows: 3 new items" in out
    with db.transaction(readonly=True) as session:
        ids = sorted(session.scalars(select(Item.external_id)))
    assert ids == ["day1/p0.png", "day1/p1.png", "day1/p2.png"]
    code, out, _ = run(capsys, "import", "glasses", str(photos), "--database-url", database_url)
    assert "0 new items, 3 already present" in out
    store = LocalBlobStore(media_dir)
    orphan = "media/00/" + "0" * 64
    store.put(orphan, b"an interrupted import's blob")
    code, out, _ = run(capsys, "media", "gc", "--database-url", database_url)
    assert code == 0 and "deleted 0 orphan blobs" in out and "1 orphans younger" in out
    old = time.time() - 2 * 3600
    os.utime(media_dir / orphan, (old, old))
    code, out, _ = run(capsys, "media", "gc", "--dry-run", "--database-url", database_url)
    assert f"would delete {orphan}" in out and store.exists(orphan)
    code, out, _ = run(capsys, "media", "gc", "--database-url", database_url)
    assert f"deleted {orphan}" in out and "deleted 1 orphan blobs (28 bytes)" in out
    assert not store.exists(orphan)
    assert len(list(store.keys("media/"))) == 3  # the items' own blobs are kept


def test_a_folder_import_into_a_project_without_media_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    media_dir: Path,
    photos: Path,
) -> None:
    make_project(db, name="intents")
    code, _, err = run(capsys, "import", "intents", str(photos), "--database-url", database_url)
    assert code != 0 and "no media field" in err
    assert count(db, "items") == 0


def test_a_folder_imported_into_a_gate_off_project_is_served_without_metadata(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    media_dir: Path,
    tmp_path: Path,
) -> None:
    project = make_project(db, name="public", config=MEDIA_SCHEMA)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, gate=False)
    folder = tmp_path / "street"
    folder.mkdir()
    (folder / "gps.jpg").write_bytes(with_metadata("JPEG", orientation=6))
    (folder / "gps.png").write_bytes(with_metadata("PNG"))
    code, out, err = run(capsys, "import", "public", str(folder), "--database-url", database_url)
    assert code == 0, err
    assert "2 rows: 2 new items" in out
    store = LocalBlobStore(media_dir)
    sizes = []
    for key in store.keys("media/"):
        served = store.read_all(key)
        assert_no_metadata(served)
        with Image.open(io.BytesIO(served)) as image:
            sizes.append(image.size)
    assert sorted(sizes) == [(48, 64), (64, 48)]  # the JPEG turned upright
