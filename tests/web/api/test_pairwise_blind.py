"""Pairwise comparisons are blind on the token API too (issue #15): ``a_model`` and
``b_model`` (in an item's data or metadata) reach no labeller — not in the next task, the
review queue, the expert queue, nor the item endpoints a project reviewer may call —
while managers, auditors and exports keep them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.factories import add_rows, grant_level, make_project, make_user

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.people.clearances import grant_clearance

CONFIG: dict[str, Any] = {"task": {"type": "pairwise"}, "review": {"rate": 1.0}}
ROWS: list[dict[str, Any]] = [
    # A flat JSONL row: the system names land among the data fields.
    {"id": "p1", "text": "say hi", "a": "hello", "b": "hi", "a_model": "gpt-x", "b_model": "cl-y"},
    # The documented place: metadata.
    {"id": "p2", "text": "say bye", "a": "bye", "b": "ciao",
     "metadata": {"a_model": "gpt-x", "b_model": "cl-y", "batch": 7}},
]  # fmt: skip
NAMES = ("gpt-x", "cl-y", "a_model", "b_model")


def _blind(payload: str) -> bool:
    return not any(name in payload for name in NAMES)


class Crew:
    def __init__(self, db: Database, config: dict[str, Any] = CONFIG, *, gate: bool = True) -> None:
        self.ann, self.doc = make_user(db, "ann"), make_user(db, "doc")
        self.rev = make_user(db, "rev", "reviewer")
        self.mgr = make_user(db, "mgr", "manager")
        self.aud = make_user(db, "aud", "auditor")
        self.project = make_project(
            db,
            config=config,
            members={self.ann: "annotator", self.doc: "annotator", self.rev: "reviewer",
                     self.mgr: "manager"},
        )  # fmt: skip
        if not gate:  # public data: a reveal shows the item as stored
            with db.transaction() as session:
                set_privacy(session, Actor.system(), self.project, gate=False)
        add_rows(db, self.project, ROWS)
        grant_level(db, self.doc, "general", 3)
        self.base = f"/api/v1/projects/{self.project}"


def test_the_next_task_has_no_system_names(app_client: TestClient, db: Database) -> None:
    crew = Crew(db)
    seen = []
    for _ in ROWS:
        got = app_client.post(f"{crew.base}/tasks/next", headers=crew.ann.headers)
        assert got.status_code == 200
        assert _blind(got.text), got.text
        task = got.json()["task"]
        seen.append(task["data"])
        skipped = app_client.post(
            f"{crew.base}/tasks/{task['item_id']}/skip", headers=crew.ann.headers
        )
        assert skipped.status_code == 204
    assert sorted(seen, key=str) == [
        {"text": "say bye", "a": "bye", "b": "ciao"},
        {"text": "say hi", "a": "hello", "b": "hi"},
    ]


def test_review_and_expert_tasks_have_no_system_names(app_client: TestClient, db: Database) -> None:
    crew = Crew(db)
    task = app_client.post(f"{crew.base}/tasks/next", headers=crew.ann.headers).json()["task"]
    saved = app_client.post(
        f"{crew.base}/items/{task['item_id']}/labels",
        json={"answer": "a"},
        headers=crew.ann.headers,
    )
    assert saved.status_code == 201
    review = app_client.post(f"{crew.base}/reviews/next", headers=crew.rev.headers)
    assert review.status_code == 200 and review.json()["review"] is not None
    assert _blind(review.text), review.text

    other = app_client.post(f"{crew.base}/tasks/next", headers=crew.ann.headers).json()["task"]
    flagged = app_client.post(
        f"{crew.base}/items/{other['item_id']}/flag",
        json={"reason": "both wrong"},
        headers=crew.ann.headers,
    )
    assert flagged.status_code == 200
    expert = app_client.post(f"{crew.base}/expert-tasks/next", headers=crew.doc.headers)
    assert expert.status_code == 200 and expert.json()["task"] is not None
    assert _blind(expert.text), expert.text


def test_item_endpoints_are_blind_for_reviewers_not_for_staff(
    app_client: TestClient, db: Database
) -> None:
    crew = Crew(db)
    listed = app_client.get(f"{crew.base}/items", headers=crew.rev.headers)
    assert listed.status_code == 200
    assert _blind(listed.text), listed.text
    items = listed.json()["items"]
    assert [item["metadata"] for item in items] == [{}, {"batch": 7}]  # the rest stays
    one = app_client.get(f"{crew.base}/items/{items[0]['id']}", headers=crew.rev.headers)
    assert one.status_code == 200 and _blind(one.text)
    assert one.json()["data"] == {"text": "say hi", "a": "hello", "b": "hi"}

    for staff in (crew.mgr, crew.aud):
        full = app_client.get(f"{crew.base}/items", headers=staff.headers).json()["items"]
        assert full[0]["data"]["a_model"] == "gpt-x" and full[0]["data"]["b_model"] == "cl-y"
        assert full[1]["metadata"] == {"a_model": "gpt-x", "b_model": "cl-y", "batch": 7}
    exported = app_client.get(f"{crew.base}/export?kind=items", headers=crew.mgr.headers)
    assert exported.status_code == 200 and "gpt-x" in exported.text  # exports keep them


def test_other_task_types_keep_fields_of_those_names(app_client: TestClient, db: Database) -> None:
    config = {"task": {"type": "single_choice", "labels": [{"key": "x"}, {"key": "y"}]}}
    crew = Crew(db, config)
    got = app_client.post(f"{crew.base}/tasks/next", headers=crew.ann.headers)
    assert got.json()["task"]["data"]["a_model"] == "gpt-x"  # only pairwise is blind


def test_a_reviewer_revealing_an_item_stays_blind_to_the_systems(
    app_client: TestClient, db: Database
) -> None:
    crew = Crew(db, gate=False)
    with db.transaction() as session:
        for who in (crew.rev, crew.mgr):
            grant_clearance(
                session, Actor.system(), user_id=who.id, project_id=crew.project,
                sensitivity="internal",
            )  # fmt: skip
    items = app_client.get(f"{crew.base}/items", headers=crew.mgr.headers).json()["items"]
    body = {"purpose": "check the outputs were imported whole"}
    for item in items:
        url = f"{crew.base}/items/{item['id']}/reveal"
        blind = app_client.post(url, json=body, headers=crew.rev.headers)
        assert blind.status_code == 200, blind.text
        assert _blind(blind.text), blind.text
        full = app_client.post(url, json=body, headers=crew.mgr.headers)
        assert full.status_code == 200 and "gpt-x" in full.text


def test_a_reveal_without_clearance_says_why_in_plain_words(
    app_client: TestClient, db: Database
) -> None:
    crew = Crew(db)  # gated: items are internal
    first = app_client.get(f"{crew.base}/items", headers=crew.mgr.headers).json()["items"][0]
    refused = app_client.post(
        f"{crew.base}/items/{first['id']}/reveal",
        json={"purpose": "check the outputs were imported whole"},
        headers=crew.rev.headers,
    )
    assert refused.status_code == 403
    # Regression: it read "revealing a internal item".
    assert refused.json()["error"]["message"].startswith("revealing an internal item needs")
