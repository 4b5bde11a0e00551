from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.factories import (
    OPEN_HEALTH,
    Person,
    add_rows,
    grant_level,
    make_project,
    make_user,
    snapshot,
)

from loupe.db.database import Database

ITEMS = [
    {"id": "m1", "text": "take two tablets?", "domain": "medical"},
    {"id": "g1", "text": "play jazz"},
]


class Ladder:
    """A crowd annotator, a medical expert (level 3), a GP (level 1) and a manager."""

    def __init__(self, db: Database) -> None:
        self.crowd, self.doc, self.gp = make_user(db, "crowd"), make_user(db, "doc"), make_user(db, "gp")  # fmt: skip
        self.manager = make_user(db, "mgr", "manager")
        self.admin = make_user(db, "root", "admin")
        self.auditor = make_user(db, "aud", "auditor")
        self.outsider = make_user(db, "stranger")
        self.project = make_project(
            db,
            overlap=2,
            members={self.crowd: "annotator", self.doc: "annotator", self.gp: "annotator",
                     self.manager: "manager"},
            config=OPEN_HEALTH,  # routing by level here; clearances have tests of their own
        )  # fmt: skip
        add_rows(db, self.project, ITEMS)
        grant_level(db, self.doc, "medical", 3)
        grant_level(db, self.gp, "medical", 1)
        self.base = f"/api/v1/projects/{self.project}"

    def take(self, client: TestClient, who: Person) -> int:
        task = client.post(f"{self.base}/tasks/next", headers=who.headers).json()["task"]
        item_id: int = task["item_id"]
        return item_id

    def flag(self, client: TestClient, who: Person, item_id: int, reason: str = "unclear") -> Any:
        return client.post(
            f"{self.base}/items/{item_id}/flag", json={"reason": reason}, headers=who.headers
        )


def test_a_flagged_item_goes_to_an_expert_who_settles_it(
    app_client: TestClient, db: Database
) -> None:
    ladder = Ladder(db)
    item_id = ladder.take(app_client, ladder.crowd)
    flagged = ladder.flag(app_client, ladder.crowd, item_id, "medical advice")
    assert flagged.status_code == 200
    body = flagged.json()
    assert body.pop("created_at")
    assert body == {
        "item_id": item_id,
        "stage": "expert",
        "reason": "flagged: medical advice",
        "confidence": 0.0,
        "n_labels": 0,
        "flagged_by": ladder.crowd.id,
        "resolved_at": None,
        "resolved_by": None,
        "answer": None,
    }
    again = ladder.flag(app_client, ladder.crowd, item_id, "still unsure")
    assert again.status_code == 200
    assert again.json()["reason"] == "flagged: medical advice"  # idempotent
    # Out of the crowd's queue: the GP gets the other item.
    assert ladder.take(app_client, ladder.gp) != item_id
    task = app_client.post(f"{ladder.base}/expert-tasks/next", headers=ladder.doc.headers)
    assert task.status_code == 200
    expert = task.json()["task"]
    assert expert.pop("lease_expires_at")
    assert expert == {
        "item_id": item_id,
        "external_id": "m1",
        "data": {"text": "take two tablets?"},
        "language": None,
        "domain": "medical",
        "reason": "flagged: medical advice",
        "config_version": 1,
        "media": [],
    }
    done = app_client.post(
        f"{ladder.base}/escalations/{item_id}/resolve",
        json={"answer": "call"},
        headers=ladder.doc.headers,
    )
    assert done.status_code == 200
    settled = done.json()
    assert settled.pop("resolved_at") and settled.pop("created_at")
    assert settled == {
        "item_id": item_id,
        "stage": "expert",
        "reason": "flagged: medical advice",
        "confidence": 0.0,
        "n_labels": 0,
        "flagged_by": ladder.crowd.id,
        "resolved_by": ladder.doc.id,
        "answer": "call",
    }
    nothing = app_client.post(f"{ladder.base}/expert-tasks/next", headers=ladder.doc.headers)
    assert nothing.json() == {"task": None}
    labels = app_client.get(f"{ladder.base}/labels", headers=ladder.manager.headers).json()
    assert [(row["user_id"], row["answer"]) for row in labels["items"]] == [(ladder.doc.id, "call")]
    # Settled for good: no second answer, no new flag.
    before = snapshot(db)
    late = app_client.post(
        f"{ladder.base}/escalations/{item_id}/resolve",
        json={"answer": "music"},
        headers=ladder.doc.headers,
    )
    assert late.status_code == 404
    assert "no open escalation" in late.json()["error"]["message"]
    assert snapshot(db) == before


def test_an_expert_passes_up_and_a_manager_adjudicates(
    app_client: TestClient, db: Database
) -> None:
    ladder = Ladder(db)
    item_id = ladder.take(app_client, ladder.crowd)
    ladder.flag(app_client, ladder.crowd, item_id)
    url = f"{ladder.base}/escalations/{item_id}/resolve"
    up = app_client.post(url, json={"pass_up": "a policy question"}, headers=ladder.doc.headers)
    assert up.status_code == 200
    assert (up.json()["stage"], up.json()["reason"]) == (
        "adjudicator",
        "flagged: unclear; expert: a policy question",
    )
    before = snapshot(db)
    for who in (ladder.doc, ladder.crowd, ladder.auditor):
        refused = app_client.post(url, json={"answer": "call"}, headers=who.headers)
        assert refused.status_code == 403, who.username
        assert "waits for an adjudicator" in refused.json()["error"]["message"]
    assert app_client.post(url, json={"answer": "call"}, headers=ladder.outsider.headers).status_code == 403  # fmt: skip
    last = app_client.post(url, json={"pass_up": "me neither"}, headers=ladder.manager.headers)
    assert last.status_code == 409
    assert "last rung" in last.json()["error"]["message"]
    assert snapshot(db) == before
    done = app_client.post(url, json={"answer": "navigate"}, headers=ladder.manager.headers)
    assert done.status_code == 200
    assert (done.json()["answer"], done.json()["resolved_by"]) == ("navigate", ladder.manager.id)


def test_an_adjudicator_settles_any_rung_but_passes_nothing_up(
    app_client: TestClient, db: Database
) -> None:
    ladder = Ladder(db)
    item_id = ladder.take(app_client, ladder.crowd)
    ladder.flag(app_client, ladder.crowd, item_id)
    url = f"{ladder.base}/escalations/{item_id}/resolve"
    # Passing up is for experts; an admin (no member, no expert) is neither.
    before = snapshot(db)
    up = app_client.post(url, json={"pass_up": "not mine"}, headers=ladder.admin.headers)
    assert up.status_code == 403
    assert "waits for a domain expert" in up.json()["error"]["message"]
    assert snapshot(db) == before
    # An adjudicator may settle it at the expert rung, so no item waits for ever.
    done = app_client.post(url, json={"answer": "call"}, headers=ladder.admin.headers)
    assert done.status_code == 200
    body = done.json()
    assert (body["stage"], body["resolved_by"], body["answer"]) == (
        "expert",
        ladder.admin.id,
        "call",
    )
    assert app_client.post(f"{ladder.base}/expert-tasks/next", headers=ladder.doc.headers).json() == {"task": None}  # fmt: skip


def test_flag_failures_say_what_to_fix_and_change_nothing(
    app_client: TestClient, db: Database
) -> None:
    ladder = Ladder(db)
    held = ladder.take(app_client, ladder.crowd)
    other = 2 if held == 1 else 1
    before = snapshot(db)
    url = f"{ladder.base}/items/{held}/flag"
    assert app_client.post(url, json={"reason": "x"}).status_code == 401
    for who in (ladder.outsider, ladder.admin, ladder.auditor):
        refused = ladder.flag(app_client, who, held)
        assert refused.status_code == 403, who.username
        assert "may not work on tasks" in refused.json()["error"]["message"]
    not_held = ladder.flag(app_client, ladder.crowd, other)
    assert not_held.status_code == 409
    assert "only an item you hold a task for or labelled" in not_held.json()["error"]["message"]
    assert ladder.flag(app_client, ladder.crowd, 999).status_code == 404
    missing = app_client.post(
        "/api/v1/projects/999/items/1/flag", json={"reason": "x"}, headers=ladder.crowd.headers
    )
    assert missing.status_code == 404
    for body, start, hint in [
        ({"reason": ""}, "reason", "at least 1 character"),
        ({"reason": "   "}, "reason", "why this item needs an expert"),
        ({"reason": "x" * 501}, "reason", "at most 500 characters"),
        ({}, "reason", "required"),
        ({"reason": "x", "urgent": True}, "urgent", "not permitted"),
    ]:
        bad = app_client.post(url, json=body, headers=ladder.crowd.headers)
        assert bad.status_code == 422, body
        message = bad.json()["error"]["message"]
        assert message.startswith(start) and hint in message, (body, message)
    assert snapshot(db) == before


def test_expert_failures_say_what_to_fix_and_change_nothing(
    app_client: TestClient, db: Database
) -> None:
    ladder = Ladder(db)
    item_id = ladder.take(app_client, ladder.crowd)
    ladder.flag(app_client, ladder.crowd, item_id)
    other = 2 if item_id == 1 else 1
    app_client.post(f"{ladder.base}/expert-tasks/next", headers=ladder.doc.headers)
    before = snapshot(db)
    queue = f"{ladder.base}/expert-tasks/next"
    url = f"{ladder.base}/escalations/{item_id}/resolve"
    assert app_client.post(queue).status_code == 401
    assert app_client.post(url, json={"answer": "call"}).status_code == 401
    for who, message in [
        (ladder.gp, "you need level 3 or the expert reputation tier"),
        (ladder.crowd, "you need level 3 or the expert reputation tier"),
        (ladder.outsider, "may not work on tasks"),
        (ladder.admin, "may not work on tasks"),
    ]:
        refused = app_client.post(queue, headers=who.headers)
        assert refused.status_code == 403, who.username
        assert message in refused.json()["error"]["message"]
        assert "tablets" not in refused.text
    for who in (ladder.gp, ladder.crowd, ladder.auditor, ladder.outsider):
        refused = app_client.post(url, json={"answer": "call"}, headers=who.headers)
        assert refused.status_code == 403, who.username
    # A manager adjudicates any rung, but passes nothing up: that is for experts.
    up = app_client.post(url, json={"pass_up": "not mine"}, headers=ladder.manager.headers)
    assert up.status_code == 403
    assert (
        "expert in medical"
        in app_client.post(url, json={"answer": "call"}, headers=ladder.gp.headers).json()["error"][
            "message"
        ]
    )
    for path in (
        f"{ladder.base}/escalations/{other}/resolve",
        f"{ladder.base}/escalations/999/resolve",
        "/api/v1/projects/999/escalations/1/resolve",
    ):
        missing = app_client.post(path, json={"answer": "call"}, headers=ladder.doc.headers)
        assert missing.status_code == 404, path
    assert (
        "no open escalation"
        in app_client.post(
            f"{ladder.base}/escalations/{other}/resolve",
            json={"answer": "call"},
            headers=ladder.doc.headers,
        ).json()["error"]["message"]
    )
    for body, start, hint in [
        ({"answer": "dance"}, "answer", "send one of: call, music, navigate"),
        ({"answer": ["call"]}, "answer", "send one of"),
        ({}, "answer", "give the item's answer (or pass_up with a reason)"),
        ({"pass_up": "   "}, "pass_up", "why an adjudicator must decide"),
        ({"pass_up": "x" * 501}, "pass_up", "at most 500 characters"),
        ({"answer": "call", "note": "x"}, "note", "not permitted"),
    ]:
        bad = app_client.post(url, json=body, headers=ladder.doc.headers)
        assert bad.status_code == 422, body
        message = bad.json()["error"]["message"]
        assert message.startswith(start) and hint in message, (body, message)
    assert snapshot(db) == before
