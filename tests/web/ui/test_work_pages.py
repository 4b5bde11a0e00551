"""The work pages for every task type: the workspace, peer review and the expert queue."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import add_rows, grant_level, make_project, make_user
from tests.web.ui.scenarios import (
    ANSWERS,
    ROWS,
    SCHEMAS,
    earn_trust,
    flag_next,
    label_next,
    pass_up,
    reviewed,
)
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database


def _config(page: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert found, page
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_the_workspace_renders_each_task_type_and_takes_its_answers(
    app_client: TestClient, db: Database, kind: str
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, config=SCHEMAS[kind], members={maya: "annotator"})
    add_rows(db, project, ROWS[kind])
    csrf = sign_in(app_client, db, maya)
    page = app_client.get(f"/projects/{project}/work")
    assert page.status_code == 200
    text = page.text
    config = _config(text, "workspace-config")
    assert config["editor"]["type"] == kind
    assert 'id="flag"' in text and 'aria-keyshortcuts="F"' in text
    assert "flag the item as needing an expert" in text  # the help overlay
    if kind == "free_text":
        assert '<textarea id="answer-text"' in text and 'lang="de"' in text
        assert config["editor"]["sourceField"] == "draft"
        assert "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>" in text
        assert 'class="option"' not in text
    elif kind == "pairwise":
        assert 'id="pair-a"' in text and 'id="pair-b"' in text
        assert config["editor"]["keys"] == ["a", "b", "tie"]
        assert re.search(r'data-key="tie" aria-pressed="false"\s+aria-keyshortcuts="3"', text)
    elif kind == "spans":
        assert 'id="span-list"' in text and "span-surface" in text
        assert "<kbd>Backspace</kbd>" in text
        assert 'title="a place"' in text  # a label's description
    else:
        assert re.search(r'aria-pressed="false"\s+aria-keyshortcuts="1"', text)
    # The answer the page builds is the one the API takes.
    found = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf})
    task = found.json()["task"]
    assert task["external_id"] == ROWS[kind][0]["id"]
    saved = app_client.post(
        f"/api/v1/projects/{project}/items/{task['item_id']}/labels",
        json={"answer": ANSWERS[kind]},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 201, saved.text


def test_flagging_from_the_workspace_moves_on(app_client: TestClient, db: Database) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_rows(db, project, ROWS["single_choice"])
    csrf = sign_in(app_client, db, maya)
    first = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf})
    item = first.json()["task"]["item_id"]
    flagged = app_client.post(
        f"/api/v1/projects/{project}/items/{item}/flag",
        json={"reason": "medical advice"},
        headers={"X-CSRF-Token": csrf},
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["stage"] == "expert"
    after = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf})
    assert after.json()["task"]["item_id"] != item


def test_the_review_page_is_blind_and_keyboard_driven(app_client: TestClient, db: Database) -> None:
    ann, rev = make_user(db, "annabel"), make_user(db, "rev")
    project = make_project(
        db, config=reviewed(SCHEMAS["spans"]), members={ann: "annotator", rev: "reviewer"}
    )
    add_rows(db, project, ROWS["spans"])
    _, label_id = label_next(db, ann, project, ANSWERS["spans"])
    csrf = sign_in(app_client, db, rev)
    page = app_client.get(f"/projects/{project}/review", headers=HTML)
    assert page.status_code == 200
    text = page.text
    for key in ("A", "R", "C"):
        assert f'aria-keyshortcuts="{key}"' in text
    assert "Blind review" in text
    assert _config(text, "review-config")["editor"]["type"] == "spans"
    assert "/static/review.js" in text
    assert 'href="/projects/1/review" aria-current="page"' in text
    found = app_client.post(
        f"/api/v1/projects/{project}/reviews/next", headers={"X-CSRF-Token": csrf}
    ).json()["review"]
    assert found["label_id"] == label_id and found["other_answers"] is None
    assert "annabel" not in json.dumps(found) and "annabel" not in text
    done = app_client.post(
        f"/api/v1/projects/{project}/labels/{label_id}/reviews",
        json={"verdict": "reject", "reason": "Paris is missing"},
        headers={"X-CSRF-Token": csrf},
    )
    assert done.status_code == 201 and done.json()["status"] == "rejected"


def test_an_annotator_below_the_review_tier_gets_the_page_and_the_reason(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(
        db, config=reviewed(SCHEMAS["single_choice"]), members={maya: "annotator"}
    )
    csrf = sign_in(app_client, db, maya)
    assert app_client.get(f"/projects/{project}/review").status_code == 200
    refused = app_client.post(
        f"/api/v1/projects/{project}/reviews/next", headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403
    assert "trusted reputation tier" in refused.json()["error"]["message"]
    home = app_client.get("/").text
    assert f"/projects/{project}/review" not in home  # no link to what they cannot use yet
    earn_trust(db, maya)
    assert f'href="/projects/{project}/review"' in app_client.get("/").text
    allowed = app_client.post(
        f"/api/v1/projects/{project}/reviews/next", headers={"X-CSRF-Token": csrf}
    )
    assert allowed.status_code == 200 and allowed.json() == {"review": None}


def test_the_expert_queue_for_experts_and_the_adjudicator_stage_for_managers(
    app_client: TestClient, db: Database
) -> None:
    ann, doc, boss = make_user(db, "ann"), make_user(db, "doc"), make_user(db, "boss", "manager")
    project = make_project(
        db, members={ann: "annotator", doc: "annotator", boss: "manager"}, overlap=2
    )
    add_rows(db, project, ROWS["single_choice"])
    grant_level(db, doc, "general", 3)
    label_next(db, ann, project, "music")
    item = flag_next(db, ann, project, "is this a call or a message?")

    csrf = sign_in(app_client, db, doc)
    page = app_client.get(f"/projects/{project}/expert", headers=HTML)
    assert page.status_code == 200
    config = _config(page.text, "expert-config")
    assert config["stage"] == "expert"
    assert 'aria-keyshortcuts="P"' in page.text and "Adjudicator stage" not in page.text
    assert 'href="/projects/1/expert?stage=expert">Expert queue <span class="count">1<' in (
        app_client.get("/").text
    )
    task = app_client.post(
        f"/api/v1/projects/{project}/expert-tasks/next", headers={"X-CSRF-Token": csrf}
    ).json()["task"]
    assert task["item_id"] == item and task["reason"] == "flagged: is this a call or a message?"
    app_client.post("/logout", data={"csrf_token": csrf})

    passed = pass_up(db, doc, project, "needs the caller's history")
    assert passed == item
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/expert", headers=HTML)
    assert page.status_code == 200
    assert _config(page.text, "expert-config")["stage"] == "adjudicator"
    assert "Next in queue" in page.text and 'id="pass-up"' not in page.text
    found = app_client.get(f"/projects/{project}/expert/adjudication").json()["task"]
    assert found["item_id"] == item
    assert found["answers"] == []  # the flagged item had no labels yet
    assert "needs the caller's history" in found["reason"]
    assert "ann" not in json.dumps(found["answers"])
    none_after = app_client.get(f"/projects/{project}/expert/adjudication?after={item}")
    assert none_after.json() == {"task": None}


def test_work_pages_send_the_signed_out_to_sign_in(app_client: TestClient) -> None:
    for path in ["/projects/1/review", "/projects/1/expert", "/me", "/projects/1/qualifications/1"]:
        response = app_client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/")
    assert app_client.get("/projects/1/expert/adjudication").status_code == 401


def test_work_pages_refuse_roles_that_may_not_use_them(
    app_client: TestClient, db: Database
) -> None:
    audrey, maya = make_user(db, "audrey"), make_user(db, "maya")
    project = make_project(db, members={audrey: "auditor", maya: "annotator"})
    sign_in(app_client, db, audrey)
    for path in [
        f"/projects/{project}/work",
        f"/projects/{project}/review",
        f"/projects/{project}/expert",
        f"/projects/{project}/expert?stage=expert",
    ]:
        response = app_client.get(path, headers=HTML)
        assert response.status_code == 403, path
        assert "may not" in response.text
    app_client.cookies.clear()
    sign_in(app_client, db, maya)
    assert app_client.get(f"/projects/{project}/expert?stage=adjudicator").status_code == 403
    assert app_client.get(f"/projects/{project}/expert/adjudication").status_code == 403
    assert app_client.get(f"/projects/{project}/expert").status_code == 200  # the API explains
    outsider = make_user(db, "outsider")
    app_client.cookies.clear()
    sign_in(app_client, db, outsider)
    assert app_client.get(f"/projects/{project}/review", headers=HTML).status_code == 403
