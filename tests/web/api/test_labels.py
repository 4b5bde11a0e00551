"""``POST /projects/{id}/items/{item}/labels`` needs the lease the item was served with.

Regression (#12, "Gold can be harvested"): a label on an ordinary item was accepted
without a lease while a gold one was refused, so submitting by id told gold from
ordinary items (409 against 201); ordinary span answers were also checked against the
text of an item never served.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.factories import Person, add_items, add_rows, count, make_project, make_user, snapshot

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.labelling import tasks
from loupe.services.quality.gold import set_gold

GOLD_CONFIG = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
    },
    "quality": {"gold_rate": 0.5},
}


class _GoldFirst:
    """Stands in for the system RNG of ``next_task``: a gold task whenever one is due."""

    def random(self) -> float:
        return 0.0


def _state(db: Database) -> dict[str, int]:
    return snapshot(db) | {"gold_results": count(db, "gold_results")}


def _submit(
    client: TestClient, project: int, item: int, who: Person, answer: str
) -> httpx.Response:
    return client.post(
        f"/api/v1/projects/{project}/items/{item}/labels",
        json={"answer": answer},
        headers=who.headers,
    )


def _without_id(body: str, item: int) -> str:
    return body.replace(f"item {item}:", "item ?:").replace(f'"item_id":{item}', '"item_id":?')


def test_unserved_gold_and_ordinary_items_answer_alike_until_served(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, config=GOLD_CONFIG, members={ann: "annotator"})
    add_items(db, project, 2)  # item 1 (u0) ordinary, item 2 (u1) gold
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u1", "navigate")])
    ordinary, gold = 1, 2
    before = _state(db)
    refused = {item: _submit(app_client, project, item, ann, "call") for item in (ordinary, gold)}
    assert _state(db) == before  # no label, no gold result, no lease
    assert {r.status_code for r in refused.values()} == {409}
    error = refused[gold].json()["error"]
    assert error["code"] == "conflict" and error["details"]["reason"] == "no_lease"
    bodies = {_without_id(r.text, item) for item, r in refused.items()}
    assert len(bodies) == 1  # byte-identical but for the item id
    headers = [dict(r.headers) for r in refused.values()]
    assert headers[0] == headers[1]
    for response in refused.values():
        assert "navigate" not in response.text

    monkeypatch.setattr(tasks, "_rng", _GoldFirst())
    served = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert served.json()["task"]["item_id"] == gold and "navigate" not in served.text
    answered = _submit(app_client, project, gold, ann, "call")
    assert answered.status_code == 201, answered.text
    assert answered.json()["gold"] == {
        "correct": False,
        "expected": "navigate",
        "paused": False,
    }
    served = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert served.json()["task"]["item_id"] == ordinary
    labelled = _submit(app_client, project, ordinary, ann, "call")
    assert labelled.status_code == 201
    assert labelled.json()["gold"] is None
    # Resubmitting (no lease left) returns each recorded label alike, with no feedback.
    again = {item: _submit(app_client, project, item, ann, "call") for item in (ordinary, gold)}
    assert {r.status_code for r in again.values()} == {200}
    assert [r.json()["gold"] for r in again.values()] == [None, None]


def test_a_span_answer_without_a_lease_is_refused_before_the_text_is_read(
    app_client: TestClient, db: Database
) -> None:
    ann = make_user(db, "ann")
    config = {"task": {"type": "spans", "labels": [{"key": "PER"}]}}
    project = make_project(db, config=config, members={ann: "annotator"})
    add_rows(db, project, [{"id": "s1", "text": "call Anna"}])
    before = snapshot(db)
    probe = app_client.post(
        f"/api/v1/projects/{project}/items/1/labels",
        json={"answer": [{"start": 5, "end": 99, "label": "PER"}]},
        headers=ann.headers,
    )
    assert probe.status_code == 409  # not a 422 that would measure the text
    assert probe.json()["error"]["details"]["reason"] == "no_lease"
    assert snapshot(db) == before


def test_a_lease_on_another_item_or_another_persons_lease_does_not_count(
    app_client: TestClient, db: Database
) -> None:
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, overlap=2, members={ann: "annotator", bob: "annotator"})
    add_items(db, project, 2)
    served = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert served.json()["task"]["item_id"] == 1
    before = snapshot(db)
    for who, item in ((ann, 2), (bob, 1)):
        response = _submit(app_client, project, item, who, "call")
        assert response.status_code == 409
    assert snapshot(db) == before
    assert _submit(app_client, project, 1, ann, "call").status_code == 201
    assert app_client.post(f"/api/v1/projects/{project}/items/1/labels").status_code == 401
    assert (
        app_client.post(
            f"/api/v1/projects/{project}/items/1/labels", json={}, headers=bob.headers
        ).status_code
        == 422
    )
