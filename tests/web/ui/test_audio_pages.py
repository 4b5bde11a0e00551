"""Audio on the pages, as the server renders them (issue #20): the segments editor's
widgets and keys, the player's keys in the shortcuts overlay, and the item page's audio —
a player's data (with the served url) only for a voice-cleared reader, else the notice
and no raw-audio URL anywhere in the page. The browser behaviour is in
``tests/browser/test_audio.py``."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from tests.browser.harness import store_audio_item, wav
from tests.factories import make_project, make_user
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.people.clearances import VOICE, grant_clearance
from loupe.settings import Settings

LABELS = [f"sound{i:02d}" for i in range(22)]
SEGMENTS = {"task": {"type": "segments", "labels": [{"key": k} for k in LABELS]}}
POST_EDIT = {
    "task": {"type": "free_text", "mode": "post_edit", "source_field": "transcript"},
    "text_field": "transcript",
    "media": ["audio"],
}


def _config(page: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert found, page
    return dict(json.loads(found.group(1)))


def test_the_segments_workspace_has_the_editor_its_list_and_its_keys(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, config=SEGMENTS, members={maya: "annotator"})
    sign_in(app_client, db, maya)
    page = app_client.get(f"/projects/{project}/work", headers=HTML)
    assert page.status_code == 200
    text = page.text
    editor = _config(text, "workspace-config")["editor"]
    assert editor["type"] == "segments" and editor["mediaField"] == "audio"
    # M marks a segment: no label has that key.
    assert "m" not in editor["shortcuts"]
    for widget in ('id="segment-list"', 'id="segment-none"', 'id="segment-help"'):
        assert widget in text, widget
    for said in ("mark a segment's start", "play or pause the recording", "slower or faster"):
        assert said in text, said


def test_a_transcript_task_says_how_to_play_while_typing(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, config=POST_EDIT, members={maya: "annotator"})
    sign_in(app_client, db, maya)
    text = app_client.get(f"/projects/{project}/work", headers=HTML).text
    assert "plays or pauses the recording" in text  # the hint under the text box
    assert "also while typing in the text box" in text  # the shortcuts overlay


def test_the_item_page_gives_the_audio_only_to_a_voice_cleared_reader(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    boss = make_user(db, "boss")
    project = make_project(db, config=POST_EDIT, members={boss: "manager"})
    item, sha = store_audio_item(
        db,
        settings,
        project,
        wav(1.0),
        external_id="r1",
        data={"transcript": "lights off"},
        text_field="transcript",
    )
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    assert page.status_code == 200
    assert "lights off" in page.text
    assert "/api/v1/media/" not in page.text and sha not in page.text
    assert "withheld: you need a voice clearance" in page.text

    with db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=boss.id, project_id=project, sensitivity=VOICE
        )
    page = app_client.get(f"/projects/{project}/items/{item}", headers=HTML)
    found = re.search(r"data-audio-json='([^']*)'", page.text)
    assert found, page.text
    entry = json.loads(found.group(1))
    assert entry["url"] == f"/api/v1/media/{sha}" and entry["restricted"] is None
    assert "withheld" not in page.text
