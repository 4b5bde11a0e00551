"""Images on the pages, as the server renders them (issue #16): the boxes editor's widgets
and help, and the item page's served image with the gate's regions and the consensus
boxes. Every page names only served blobs (``/api/v1/media/<sha256>``), never an
original; the browser behaviour is in ``tests/browser/test_boxes.py`` and
``test_images.py``."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.browser.harness import png, store_image_item
from tests.factories import add_rows, clear, make_project, make_user
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.db.models import Consensus, Item, utcnow
from loupe.settings import Settings

LABELS = [f"thing{i:02d}" for i in range(22)]
BOXES = {"task": {"type": "boxes", "labels": [{"key": k} for k in LABELS]}}
FACE = {"type": "FACE", "x": 10, "y": 12, "width": 30, "height": 34}


def _config(page: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert found, page
    return dict(json.loads(found.group(1)))


def test_the_boxes_workspace_has_the_editor_its_list_and_its_keys(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, config=BOXES, members={maya: "annotator"})
    sign_in(app_client, db, maya)
    page = app_client.get(f"/projects/{project}/work", headers=HTML)
    assert page.status_code == 200
    text = page.text
    editor = _config(text, "workspace-config")["editor"]
    assert editor["type"] == "boxes"
    assert editor["mediaField"] == "image" and editor["mediaFields"] == ["image"]
    assert editor["minSize"] == 2.0 and editor["maxBoxes"] == 500
    # N makes a box: no label has that key (the 20th is found with `/` instead).
    assert "n" not in editor["shortcuts"] and editor["shortcuts"][19] == ""
    assert editor["shortcuts"][:3] == ["1", "2", "3"]
    for widget in ('id="item-media"', 'id="box-list"', 'id="box-none"', 'id="box-help"'):
        assert widget in text, widget
    assert 'aria-labelledby="boxes-title"' in text
    # The shortcuts overlay documents the keyboard-only way to make and edit a box.
    for said in (
        "add a box in the middle",
        "make the selected box 1 pixel wider",
        "zoom the image",
    ):
        assert said in text, said
    assert "/original" not in text


def test_a_text_project_has_no_zoom_keys_and_an_image_classification_has(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    plain = make_project(db, name="plain", members={maya: "annotator"})
    photos = make_project(
        db,
        name="photos",
        members={maya: "annotator"},
        config={
            "task": {"type": "single_choice", "labels": [{"key": "cat"}, {"key": "dog"}]},
            "media": ["photo"],
        },
    )
    sign_in(app_client, db, maya)
    text = app_client.get(f"/projects/{plain}/work", headers=HTML).text
    assert "zoom the image" not in text and 'id="box-list"' not in text
    text = app_client.get(f"/projects/{photos}/work", headers=HTML).text
    assert "zoom the image" in text and 'id="box-list"' not in text
    assert _config(text, "workspace-config")["editor"]["mediaFields"] == ["photo"]


def test_the_item_page_shows_the_served_image_its_regions_and_the_consensus_boxes(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    boss = make_user(db, "boss")
    project = make_project(db, config=BOXES, members={boss: "manager"})
    item, sha = store_image_item(
        db, settings, project, png(64, 48), external_id="photo-1", regions=[FACE]
    )
    boxes = [{"x": 5.0, "y": 6.0, "w": 20.4, "h": 10.0, "label": "thing01"}]
    with db.transaction() as session:
        session.add(
            Consensus(
                item_id=item,
                project_id=project,
                answer=boxes,
                support=2,
                n_labels=3,
                confidence=0.8,
                method="boxes",
                updated_at=utcnow(),
            )
        )
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert f'<img class="mv-image" src="/api/v1/media/{sha}"' in text
    assert 'width="64" height="48"' in text
    entry = json.loads(re.search(r"data-media-json='([^']*)'", text).group(1))  # type: ignore[union-attr]
    assert entry["url"] == f"/api/v1/media/{sha}" and entry["regions"] == [FACE]
    sets = json.loads(re.search(r"data-boxes-json='([^']*)'", text).group(1))  # type: ignore[union-attr]
    assert sets == [{"title": "consensus", "boxes": boxes}]
    assert "1 region pixelated by the privacy gate (face)" in text
    assert "thing01 · 20 × 10 px at 5, 6" in text
    assert "/static/media.js" in text
    assert "/original" not in text


def test_the_item_page_of_a_text_item_loads_no_viewer(app_client: TestClient, db: Database) -> None:
    boss = make_user(db, "boss")
    project = make_project(db, members={boss: "manager"})
    add_rows(db, project, [{"id": "t1", "text": "hello there"}])
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/items/1", headers=HTML)
    assert page.status_code == 200
    assert "media.js" not in page.text and "data-media-json" not in page.text


def test_a_withheld_image_is_not_on_the_item_page_of_an_auditor(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    boss = make_user(db, "boss")
    audrey = make_user(db, "audrey", "auditor")
    project = make_project(db, config=BOXES, members={boss: "manager"})
    item, sha = store_image_item(
        db, settings, project, png(64, 48), external_id="photo-1", regions=[FACE]
    )
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == item).values(withheld=True))
    sign_in(app_client, db, audrey)
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    assert page.status_code == 200
    assert sha not in page.text and "data-media-json" not in page.text
    # Its manager (who runs the project's privacy gate) sees it once cleared for its class.
    app_client.cookies.clear()
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    assert sha not in page.text
    clear(db, boss, project, "health")
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    assert f"/api/v1/media/{sha}" in page.text
