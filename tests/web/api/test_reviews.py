from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.factories import (
    SCHEMA,
    Person,
    add_items,
    add_rows,
    grant_level,
    make_project,
    make_user,
    snapshot,
)

from loupe.db.database import Database

REVIEWED: dict[str, Any] = {**SCHEMA, "review": {"rate": 1.0}}


class Team:
    def __init__(self, db: Database, config: dict[str, Any] = REVIEWED, overlap: int = 1) -> None:
        # A distinctive name, so that a leak of who labelled is easy to spot.
        self.labeller = make_user(db, "labeller_zed")
        self.other = make_user(db, "ann2")
        self.reviewer = make_user(db, "rev", "reviewer")
        self.manager = make_user(db, "mgr", "manager")
        self.outsider = make_user(db, "stranger")
        self.project = make_project(
            db,
            config=config,
            overlap=overlap,
            members={
                self.labeller: "annotator",
                self.other: "annotator",
                self.reviewer: "reviewer",
                self.manager: "manager",
            },
        )
        self.base = f"/api/v1/projects/{self.project}"


def label(client: TestClient, team: Team, who: Person, answer: str = "music") -> tuple[int, int]:
    """``who`` takes the next task and answers it; returns (item id, label id)."""
    task = client.post(f"{team.base}/tasks/next", headers=who.headers).json()["task"]
    created = client.post(
        f"{team.base}/items/{task['item_id']}/labels", json={"answer": answer}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    return task["item_id"], created.json()["id"]


def test_a_review_task_is_blind(app_client: TestClient, db: Database) -> None:
    team = Team(db)
    add_items(db, team.project, 2)
    item_id, label_id = label(app_client, team, team.labeller)
    got = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers)
    assert got.status_code == 200
    task = got.json()["review"]
    assert task.pop("lease_expires_at")
    assert task == {
        "label_id": label_id,
        "item_id": item_id,
        "external_id": "u0",
        "data": {"text": "utterance 0"},
        "language": None,
        "domain": "general",
        "answer": "music",
        "other_answers": None,
        "config_version": 1,
        "media": [],
    }
    # Nothing names or points to the labeller: no user field, no name, no id.
    assert "labeller_zed" not in got.text
    assert not [key for key in task if "user" in key or "labeller" in key or key.endswith("_by")]
    # Asking again returns the same task (its lease renewed).
    again = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers)
    assert again.json()["review"]["label_id"] == label_id


def test_other_labels_are_shown_without_their_authors(app_client: TestClient, db: Database) -> None:
    config = {**SCHEMA, "review": {"rate": 1.0, "show_other_labels": True}}
    team = Team(db, config, overlap=2)
    add_items(db, team.project, 1)
    _, first = label(app_client, team, team.labeller, "music")
    label(app_client, team, team.other, "call")
    got = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers)
    task = got.json()["review"]
    assert (task["label_id"], task["answer"], task["other_answers"]) == (first, "music", ["call"])
    assert "labeller_zed" not in got.text and "ann2" not in got.text


def test_accepting_keeps_the_label(app_client: TestClient, db: Database) -> None:
    team = Team(db)
    add_items(db, team.project, 1)
    item_id, label_id = label(app_client, team, team.labeller)
    url = f"{team.base}/labels/{label_id}/reviews"
    created = app_client.post(url, json={"verdict": "accept"}, headers=team.reviewer.headers)
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "review_id": body["review_id"],
        "label_id": label_id,
        "verdict": "accept",
        "status": "accepted",
        "correction_label_id": None,
    }
    again = app_client.post(url, json={"verdict": "accept"}, headers=team.reviewer.headers)
    assert (again.status_code, again.json()) == (200, body)
    nothing = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers)
    assert nothing.json() == {"review": None}
    labels = app_client.get(f"{team.base}/labels", headers=team.manager.headers).json()
    assert [(row["id"], row["answer"]) for row in labels["items"]] == [(label_id, "music")]
    # Managers see who reviewed whom; reviewers of the project too.
    listed = app_client.get(f"{team.base}/reviews", headers=team.manager.headers)
    assert listed.status_code == 200
    record = listed.json()["items"][0]
    assert record.pop("created_at")
    assert record == {
        "id": body["review_id"],
        "item_id": item_id,
        "label_id": label_id,
        "labeller_id": team.labeller.id,
        "reviewer_id": team.reviewer.id,
        "verdict": "accept",
        "reason": "",
        "reviewed_answer": "music",
        "corrected_answer": None,
    }
    assert listed.json()["next_after"] is None
    assert app_client.get(f"{team.base}/reviews", headers=team.reviewer.headers).status_code == 200
    assert app_client.get(f"{team.base}/reviews").status_code == 401
    for refused in (team.labeller, team.outsider):
        got = app_client.get(f"{team.base}/reviews", headers=refused.headers)
        assert got.status_code == 403
    assert app_client.get("/api/v1/projects/999/reviews", headers=team.manager.headers).status_code == 404  # fmt: skip
    bad = app_client.get(f"{team.base}/reviews?limit=0", headers=team.manager.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("limit")


def test_rejected_work_goes_back_to_the_queue_but_not_to_its_author(
    app_client: TestClient, db: Database
) -> None:
    team = Team(db)
    add_items(db, team.project, 2)
    item_id, label_id = label(app_client, team, team.labeller)
    rejected = app_client.post(
        f"{team.base}/labels/{label_id}/reviews",
        json={"verdict": "reject", "reason": "it asks to call"},
        headers=team.reviewer.headers,
    )
    assert rejected.status_code == 201
    assert (rejected.json()["status"], rejected.json()["correction_label_id"]) == ("rejected", None)
    labels = app_client.get(f"{team.base}/labels", headers=team.manager.headers).json()
    assert labels["items"] == []
    mine = app_client.post(f"{team.base}/tasks/next", headers=team.labeller.headers).json()
    assert mine["task"]["item_id"] != item_id
    theirs = app_client.post(f"{team.base}/tasks/next", headers=team.other.headers).json()
    assert theirs["task"]["item_id"] == item_id
    # The verdict is evidence against the labeller, traceable to this review.
    rep = app_client.get("/api/v1/me/reputation?explain=true", headers=team.labeller.headers)
    (general,) = rep.json()
    assert [(c["kind"], c["ref"], c["success"]) for c in general["contributions"]] == [
        ("review_received", f"review:{rejected.json()['review_id']}", 0.0)
    ]


def test_a_correction_becomes_the_reviewers_label(app_client: TestClient, db: Database) -> None:
    team = Team(db)
    add_items(db, team.project, 1)
    item_id, label_id = label(app_client, team, team.labeller)
    corrected = app_client.post(
        f"{team.base}/labels/{label_id}/reviews",
        json={"verdict": "correct", "corrected_answer": "call"},
        headers=team.reviewer.headers,
    )
    assert corrected.status_code == 201
    body = corrected.json()
    assert (body["verdict"], body["status"]) == ("correct", "rejected")
    labels = app_client.get(f"{team.base}/labels", headers=team.manager.headers).json()["items"]
    assert [(row["id"], row["user_id"], row["answer"]) for row in labels] == [
        (body["correction_label_id"], team.reviewer.id, "call")
    ]
    item = app_client.get(f"{team.base}/items/{item_id}", headers=team.manager.headers).json()
    assert item["label_count"] == 1


def test_review_failures_say_what_to_fix_and_change_nothing(
    app_client: TestClient, db: Database
) -> None:
    team = Team(db)
    add_items(db, team.project, 2)
    _, label_id = label(app_client, team, team.labeller)
    url = f"{team.base}/labels/{label_id}/reviews"
    accept = {"verdict": "accept"}
    before = snapshot(db)
    assert app_client.post(f"{team.base}/reviews/next").status_code == 401
    assert app_client.post(url, json=accept).status_code == 401
    # Annotators review only once trusted in the domain; nobody reviews their own label.
    for who, path, message in [
        (team.other, f"{team.base}/reviews/next", "trusted reputation tier"),
        (team.other, url, "trusted reputation tier in general"),
        (team.labeller, url, "nobody reviews their own label"),
        (team.outsider, f"{team.base}/reviews/next", "may not review labels"),
        (team.outsider, url, "may not review labels"),
    ]:
        refused = app_client.post(path, json=accept, headers=who.headers)
        assert refused.status_code == 403, (who.username, path)
        assert message in refused.json()["error"]["message"], refused.json()
        assert "utterance" not in refused.text
    for path in (f"{team.base}/labels/999/reviews", "/api/v1/projects/999/labels/1/reviews"):
        missing = app_client.post(path, json=accept, headers=team.reviewer.headers)
        assert missing.status_code == 404, path
    assert (
        app_client.post(
            "/api/v1/projects/999/reviews/next", headers=team.reviewer.headers
        ).status_code
        == 404
    )
    for body, start, hint in [
        ({"verdict": "maybe"}, "verdict", "'accept', 'reject' or 'correct'"),
        ({}, "verdict", "required"),
        ({"verdict": "reject"}, "reason", "a rejection says why"),
        ({"verdict": "reject", "reason": "   "}, "reason", "a rejection says why"),
        ({"verdict": "reject", "reason": "x" * 501}, "reason", "500"),
        ({"verdict": "correct"}, "corrected_answer", "a correction gives the right answer"),
        (
            {"verdict": "correct", "corrected_answer": "dance"},
            "corrected_answer",
            "call, music, navigate",
        ),
        (
            {"verdict": "correct", "corrected_answer": "music"},
            "corrected_answer",
            "accept it instead",
        ),
        ({"verdict": "accept", "score": 1}, "score", "not permitted"),
    ]:
        bad = app_client.post(url, json=body, headers=team.reviewer.headers)
        assert bad.status_code == 422, body
        message = bad.json()["error"]["message"]
        assert message.startswith(start), (body, message)
        assert hint in message, (body, message)
    assert snapshot(db) == before
    # A verdict is final: neither the reviewer nor a second reviewer can change it.
    assert app_client.post(url, json=accept, headers=team.reviewer.headers).status_code == 201
    before = snapshot(db)
    changed = app_client.post(
        url, json={"verdict": "reject", "reason": "second thoughts"}, headers=team.reviewer.headers
    )
    assert changed.status_code == 409
    assert "reviews cannot be changed" in changed.json()["error"]["message"]
    late = app_client.post(url, json=accept, headers=team.manager.headers)
    assert late.status_code == 409
    assert "already accepted" in late.json()["error"]["message"]
    assert snapshot(db) == before


def test_reviewers_get_only_labels_on_items_routed_to_them(
    app_client: TestClient, db: Database
) -> None:
    config = {**REVIEWED, "routing": {"domain_levels": {"medical": 1}, "clearance_for": []}}
    team = Team(db, config)
    grant_level(db, team.labeller, "medical", 1)
    add_rows(db, team.project, [{"id": "m1", "text": "[[m1]] dosage", "domain": "medical"},
                                {"id": "g1", "text": "call Bo"}])  # fmt: skip
    _, medical = label(app_client, team, team.labeller)
    _, general = label(app_client, team, team.labeller)
    got = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers).json()
    assert got["review"]["label_id"] == general
    before = snapshot(db)
    refused = app_client.post(
        f"{team.base}/labels/{medical}/reviews",
        json={"verdict": "accept"},
        headers=team.reviewer.headers,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["message"].endswith("it needs level 1 in medical")
    assert "[[m1]]" not in refused.text
    assert snapshot(db) == before
    accepted = app_client.post(
        f"{team.base}/labels/{general}/reviews",
        json={"verdict": "accept"},
        headers=team.reviewer.headers,
    )
    assert accepted.status_code == 201
    done = app_client.post(f"{team.base}/reviews/next", headers=team.reviewer.headers)
    assert done.json() == {"review": None}
