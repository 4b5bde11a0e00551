"""``POST /projects/{id}/items/upload``: images (and rows naming them) as multipart uploads,
all or nothing; the server never reads its own files or fetches URLs for a client."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from tests.factories import Person, count, make_project, make_user, snapshot
from tests.image_samples import assert_no_metadata, with_metadata

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item
from loupe.settings import Settings
from loupe.storage import LocalBlobStore
from loupe.web.app import create_app

pytest.importorskip("cv2", reason="the images extra (OpenCV) is not installed")

MEDIA_SCHEMA: dict[str, Any] = {
    "task": {"type": "single_choice", "labels": [{"key": "product"}, {"key": "sign"}]},
    "media": ["image"],
}


def picture(seed: int, *, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.kron(cells, np.ones((8, 8, 1), dtype=np.uint8))).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def config(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"media_dir": tmp_path / "media", "image_ocr": "optional"})


@pytest.fixture
def client(config: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def manager(db: Database) -> Person:
    return make_user(db, "mgr", "manager")


@pytest.fixture
def project(db: Database, manager: Person) -> int:
    return make_project(db, name="glasses", config=MEDIA_SCHEMA, members={manager: "manager"})


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def upload(
    client: TestClient,
    project: int,
    person: Person | None,
    *,
    rows: bytes | None = None,
    images: dict[str, bytes],
    rows_name: str = "items.jsonl",
) -> Any:
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    if rows is not None:
        files.append(("items", (rows_name, rows, "application/x-ndjson")))
    files += [("files", (name, data, "image/png")) for name, data in images.items()]
    return client.post(
        f"/api/v1/projects/{project}/items/upload",
        files=files,
        headers=person.headers if person else {},
    )


def test_rows_and_files_upload_is_idempotent_and_stores_equal_bytes_once(
    client: TestClient, db: Database, project: int, manager: Person, config: Settings
) -> None:
    rows = jsonl(
        [
            {"id": "a", "image": "one.png", "text": "buy this"},
            {"id": "b", "image": "two.png"},
            {"id": "c", "image": "one.png", "text": "the same picture again"},
        ]
    )
    images = {"one.png": picture(1), "two.png": picture(2)}
    response = upload(client, project, manager, rows=rows, images=images)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 3, "created": 3, "existing": 0, "withheld": 0}
    again = upload(client, project, manager, rows=rows, images=images)
    assert again.json() == {"received": 3, "created": 0, "existing": 3, "withheld": 0}
    with db.transaction(readonly=True) as session:
        data: dict[str, Any] = dict(session.execute(select(Item.external_id, Item.data)).all())
        shas = dict(session.execute(select(ItemMedia.item_id, ItemMedia.sha256)).all())
    assert data == {"a": {"text": "buy this"}, "b": {}, "c": {"text": "the same picture again"}}
    assert len(shas) == 3 and len(set(shas.values())) == 2
    store = LocalBlobStore(config.resolved_media_dir())
    assert len(list(store.keys("media/"))) == 2
    assert len(list(store.keys("sealed/"))) == 3


def test_a_csv_file_of_rows_and_a_form_field_of_rows_work_too(
    client: TestClient, db: Database, project: int, manager: Person
) -> None:
    csv_rows = b"id,image,text\nx,one.png,a sign\n"
    response = upload(
        client, project, manager, rows=csv_rows, images={"one.png": picture(1)}, rows_name="r.csv"
    )
    assert response.json()["created"] == 1, response.text
    response = client.post(
        f"/api/v1/projects/{project}/items/upload",
        data={"items": json.dumps([{"id": "y", "image": "two.png"}])},
        files=[("files", ("two.png", picture(2), "image/png"))],
        headers=manager.headers,
    )
    assert response.json()["created"] == 1, response.text
    assert count(db, "item_media") == 2


def test_files_alone_become_one_item_each(
    client: TestClient, db: Database, project: int, manager: Person
) -> None:
    response = upload(client, project, manager, images={"a.png": picture(1), "b.png": picture(2)})
    assert response.json() == {"received": 2, "created": 2, "existing": 0, "withheld": 0}
    with db.transaction(readonly=True) as session:
        assert sorted(session.scalars(select(Item.external_id))) == ["a.png", "b.png"]


@pytest.mark.parametrize(
    ("rows", "images", "expected"),
    [
        (
            [{"id": "a", "image": "one.png"}, {"id": "b", "image": "two.png"},
             {"id": "c", "image": "bad.png"}],
            {"one.png": picture(1), "two.png": picture(2), "bad.png": picture(3)[:50]},
            "items: line 3: image 'bad.png'",
        ),
        (
            [{"id": "a", "image": "one.png"}, {"id": "b", "image": "missing.png"}],
            {"one.png": picture(1)},
            "items: line 2: image 'missing.png': no file of that name was uploaded",
        ),
        (
            [{"id": "a", "image": "/etc/hosts"}],
            {"one.png": picture(1)},
            "items: line 1: image '/etc/hosts': name a file uploaded in this request",
        ),
        (
            [{"id": "a", "image": "https://example.org/cat.png"}],
            {"one.png": picture(1)},
            "not a path or a URL",
        ),
        (
            [{"id": "a", "image": "one.gif"}],
            {"one.gif": b"GIF89a" + bytes(64)},
            "items: line 1: image 'one.gif'",
        ),
        ([{"id": "a", "text": ""}], {"one.png": picture(1)}, "items: line 1: field 'text'"),
    ],
)  # fmt: skip
def test_a_bad_row_or_file_is_a_422_naming_it_and_nothing_is_written(
    client: TestClient,
    db: Database,
    project: int,
    manager: Person,
    config: Settings,
    rows: list[dict[str, Any]],
    images: dict[str, bytes],
    expected: str,
) -> None:
    before = snapshot(db)
    response = upload(client, project, manager, rows=jsonl(rows), images=images)
    assert response.status_code == 422, response.text
    assert expected in response.json()["error"]["message"]
    assert snapshot(db) == before
    assert (count(db, "items"), count(db, "item_media")) == (0, 0)
    assert list(LocalBlobStore(config.resolved_media_dir()).keys()) == []


def test_a_file_over_max_media_bytes_is_a_422(
    settings: Settings, tmp_path: Path, db: Database, project: int, manager: Person
) -> None:
    small = settings.model_copy(
        update={"media_dir": tmp_path / "media", "image_ocr": "optional", "max_media_bytes": 1024}
    )
    with TestClient(create_app(small), raise_server_exceptions=False) as client:
        big = picture(4, size=(256, 256))
        response = upload(client, project, manager, images={"big.png": big})
    assert response.status_code == 422
    assert "max_media_bytes" in response.json()["error"]["message"]
    assert count(db, "items") == 0


def test_the_upload_needs_files_and_multipart(
    client: TestClient, db: Database, project: int, manager: Person
) -> None:
    url = f"/api/v1/projects/{project}/items/upload"
    response = client.post(url, data={"items": "[]"}, headers=manager.headers)
    assert response.status_code == 422
    response = client.post(url, json={"items": []}, headers=manager.headers)
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["error"]["message"]


def test_the_upload_needs_a_signed_in_importer(
    client: TestClient, db: Database, project: int
) -> None:
    annotator = make_user(db, "ann")
    outsider = make_user(db, "other", "manager")
    before = snapshot(db)
    assert upload(client, project, None, images={"a.png": picture(1)}).status_code == 401
    assert upload(client, project, annotator, images={"a.png": picture(1)}).status_code == 403
    assert upload(client, project, outsider, images={"a.png": picture(1)}).status_code == 403
    assert snapshot(db) == before and count(db, "item_media") == 0


def test_the_json_api_refuses_rows_naming_media(
    client: TestClient, db: Database, project: int, manager: Person
) -> None:
    response = client.post(
        f"/api/v1/projects/{project}/items",
        json={"items": [{"id": "a", "image": "/etc/hosts"}]},
        headers=manager.headers,
    )
    assert response.status_code == 422
    assert "items/upload" in response.json()["error"]["message"]
    assert count(db, "items") == 0


def test_erasing_a_subject_over_the_api_deletes_its_blobs(
    client: TestClient, db: Database, project: int, manager: Person, config: Settings
) -> None:
    rows = jsonl(
        [
            {"id": "a", "image": "one.png", "subject_id": "ana"},
            {"id": "b", "image": "two.png", "subject_id": "bob"},
        ]
    )
    images = {"one.png": picture(1), "two.png": picture(2)}
    assert upload(client, project, manager, rows=rows, images=images).status_code == 200
    store = LocalBlobStore(config.resolved_media_dir())
    assert len(list(store.keys())) == 4
    admin = make_user(db, "root", "admin")
    erased = client.post(
        "/api/v1/subjects/erase", json={"subject_id": "ana"}, headers=admin.headers
    )
    assert erased.status_code == 200, erased.text
    with db.transaction(readonly=True) as session:
        (left,) = session.scalars(select(ItemMedia)).all()
        expected = sorted([f"media/{left.sha256[:2]}/{left.sha256}", str(left.sealed_blob)])
    assert sorted(store.keys()) == expected


def test_a_gate_off_project_serves_uploaded_images_without_metadata(
    client: TestClient, db: Database, project: int, manager: Person
) -> None:
    # Turning the gate off (public data) skips pixelation, never the metadata: GPS, serial
    # numbers and comments used to be served to annotators as uploaded.
    off = client.put(
        f"/api/v1/projects/{project}/privacy", json={"gate": False}, headers=manager.headers
    )
    assert off.status_code == 200, off.text
    images = {
        "gps.jpg": with_metadata("JPEG", orientation=6),
        "gps.png": with_metadata("PNG"),
        "gps.webp": with_metadata("WEBP"),
    }
    rows = jsonl([{"id": name, "image": name} for name in images])
    response = upload(client, project, manager, rows=rows, images=images)
    assert response.status_code == 200, response.text
    page = client.get(f"/api/v1/projects/{project}/items", headers=manager.headers).json()
    media = {item["external_id"]: item["media"][0] for item in page["items"]}
    assert sorted(media) == sorted(images)
    for name, part in media.items():
        served = client.get(part["url"], headers=manager.headers)
        assert served.status_code == 200, served.text
        assert_no_metadata(served.content)
        with Image.open(io.BytesIO(served.content)) as image:
            assert image.size == (part["width"], part["height"])
            assert image.size == ((48, 64) if name == "gps.jpg" else (64, 48))
