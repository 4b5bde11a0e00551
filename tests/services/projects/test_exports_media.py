"""COCO exports of image projects (API ``?format=coco`` and ``loupe export --format coco``):
the gated images by SHA-256 and URL with their consensus boxes or classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.factories import Person, add_items, add_media, make_project, make_user, snapshot

from loupe.cli import main
from loupe.db.database import Database
from loupe.db.models import Consensus, Item
from loupe.formats_coco import read_coco

BOXES: dict[str, Any] = {"task": {"type": "boxes", "labels": [{"key": "cup"}, {"key": "sign"}]}}
CLASSES: dict[str, Any] = {
    "task": {"type": "multi_choice", "labels": [{"key": "indoor"}, {"key": "food"}]},
    "media": ["photo"],
}
CUP = {"x": 10.0, "y": 20.0, "w": 30.0, "h": 40.0, "label": "cup"}
SIGN = {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0, "label": "sign"}


def _agree(db: Database, project_id: int, answers: dict[int, Any]) -> None:
    with db.transaction() as session:
        for item_id, answer in answers.items():
            session.add(
                Consensus(
                    item_id=item_id, project_id=project_id, answer=answer, support=2, n_labels=3,
                    confidence=0.9, method="boxes",
                )
            )  # fmt: skip


def _boxes_project(db: Database) -> tuple[int, list[str], Person]:
    mgr = make_user(db, "mgr", "manager")
    project = make_project(db, config=BOXES, members={mgr: "manager"})
    add_items(db, project, 4)
    shas = [add_media(db, item, size=(640, 480)) for item in (1, 2, 3)]  # item 4: text only
    _agree(db, project, {1: [CUP, SIGN], 2: [], 3: [CUP]})
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == 3).values(withheld=True))
    return project, shas, mgr


def test_the_api_exports_consensus_boxes_as_coco(app_client: TestClient, db: Database) -> None:
    project, shas, mgr = _boxes_project(db)
    response = app_client.get(
        f"/api/v1/projects/{project}/export", params={"format": "coco"}, headers=mgr.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert [c["name"] for c in document["categories"]] == ["cup", "sign"]
    # Withheld (3) and text-only (4) items are not images of the export.
    assert document["images"] == [
        {
            "id": item,
            "file_name": f"{sha}.png",
            "width": 640,
            "height": 480,
            "sha256": sha,
            "url": f"/api/v1/media/{sha}",
            "loupe_id": f"u{item - 1}",
        }
        for item, sha in ((1, shas[0]), (2, shas[1]))
    ]
    content = read_coco(document)
    assert content.boxes == {1: sorted([CUP, SIGN], key=lambda b: (b["x"], b["y"]))}
    assert shas[2] not in response.text


def test_image_classes_export_as_box_less_annotations(app_client: TestClient, db: Database) -> None:
    mgr = make_user(db, "mgr", "manager")
    project = make_project(db, config=CLASSES, members={mgr: "manager"})
    add_items(db, project, 2)
    add_media(db, 1, field="photo")
    add_media(db, 2, field="photo")
    _agree(db, project, {1: ["indoor", "food"]})
    response = app_client.get(
        f"/api/v1/projects/{project}/export", params={"format": "coco"}, headers=mgr.headers
    )
    assert response.status_code == 200, response.text
    content = read_coco(response.json())
    assert content.classes == {1: ["indoor", "food"]}
    assert content.boxes == {}
    assert len(content.images) == 2


def test_coco_refuses_text_projects_and_outsiders(app_client: TestClient, db: Database) -> None:
    mgr, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    text = make_project(db, name="text", members={mgr: "manager", ann: "annotator"})
    images = make_project(db, name="images", config=BOXES, members={ann: "annotator"})
    before = snapshot(db)
    url = "/api/v1/projects/{}/export"
    refused = app_client.get(url.format(text), params={"format": "coco"}, headers=mgr.headers)
    assert refused.status_code == 422
    assert "COCO" in refused.json()["error"]["message"]
    assert app_client.get(url.format(images), params={"format": "coco"}).status_code == 401
    forbidden = app_client.get(url.format(images), params={"format": "coco"}, headers=ann.headers)
    assert forbidden.status_code == 403
    assert snapshot(db) == before  # nothing audited for a refused export


def test_the_cli_writes_a_coco_file(
    db: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, shas, _ = _boxes_project(db)
    target = tmp_path / "coco.json"
    code = _cli("export", str(project), "--format", "coco", "-o", str(target), database_url)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 images and 2 annotations" in out
    document = json.loads(target.read_text())
    assert [image["sha256"] for image in document["images"]] == shas[:2]
    assert _cli("export", str(project), "--format", "yaml", "-o", str(target), database_url) != 0


def _cli(*argv: str) -> int:
    *args, url = argv
    try:
        main([*args, "--database-url", url])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
