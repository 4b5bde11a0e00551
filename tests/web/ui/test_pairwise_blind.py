"""Pairwise comparisons are blind in the workspace (issue #15): the systems behind the
outputs (``a_model``/``b_model`` in the item's data) never reach the labeller, and the
sides are drawn per serving."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import add_rows, make_project, make_user
from tests.web.ui.signin import sign_in

from loupe.db.database import Database
from loupe.web.ui import workspace

CONFIG = {"task": {"type": "pairwise", "prompt_field": "prompt"}}
ROW = {
    "id": "p1",
    "text": "-",
    "prompt": "say hi",
    "a": "hello there",
    "b": "hi",
    "a_model": "gpt-secret",
    "b_model": "claude-secret",
}


@pytest.mark.parametrize("draw", [0, 1])
def test_the_task_json_has_no_model_names_and_says_which_side_is_shown(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch, draw: int
) -> None:
    monkeypatch.setattr(workspace.secrets, "randbelow", lambda n: draw)
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"}, config=CONFIG)
    add_rows(db, project, [ROW])
    csrf = sign_in(app_client, db, maya)
    found = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf})
    assert found.status_code == 200
    body = found.json()
    assert "secret" not in found.text
    assert body["task"]["data"] == {"text": "-", "prompt": "say hi", "a": "hello there", "b": "hi"}
    assert body["swapped"] is bool(draw)
