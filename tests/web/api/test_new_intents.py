from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import make_project, make_user, snapshot
from tests.loop_helpers import configure

from loupe.db.database import Database
from loupe.db.loop_models import Prediction
from loupe.db.models import Item, Project
from loupe.db.privacy_models import AuditEvent

PIZZA = ["order a pizza with cheese", "order a large pizza", "order pizza for dinner tonight"]
BANK = ["check my bank balance", "show my bank balance", "what is my bank balance"]


def _item(i: int, text: str, p: float) -> dict[str, Any]:
    rest = (1 - p) / 2
    return {
        "id": f"p{i}",
        "text": text,
        "language": "en",
        "prediction": {
            "label": "call",
            "probabilities": {"call": p, "music": rest, "navigate": rest},
        },
    }


def _world(app_client: TestClient, db: Database) -> tuple[int, Any, Any]:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    configure(db, project, audit_share=0.0, label_share=0.0)
    texts = [(t, 0.4) for t in [*PIZZA, *BANK]] + [("call mum now", 0.95), ("call the office", 0.9)]
    body = {"items": [_item(i, text, p) for i, (text, p) in enumerate(texts)]}
    url = f"/api/v1/projects/{project}/predictions"
    response = app_client.post(url, json=body, headers=manager.headers)
    assert response.status_code == 200 and response.json()["model_resolved"] == 8
    return project, manager, annotator


def _state(db: Database, project: int) -> tuple[int, list[tuple[int, str, bool]]]:
    with db.transaction() as session:
        version = session.get(Project, project).config_version  # type: ignore[union-attr]
        rows = session.execute(
            select(Prediction.item_id, Prediction.resolution, Item.is_complete)
            .join(Item, Item.id == Prediction.item_id)
            .order_by(Prediction.item_id)
        ).all()
        return version, [(row.item_id, row.resolution, row.is_complete) for row in rows]


def test_a_manager_sees_candidates_and_adopts_one(app_client: TestClient, db: Database) -> None:
    project, manager, _ = _world(app_client, db)
    url = f"/api/v1/projects/{project}/new-intents"
    response = app_client.get(url, headers=manager.headers)
    assert response.status_code == 200, response.text
    candidates = response.json()["candidates"]
    assert [c["size"] for c in candidates] == [3, 3]
    names = {c["name"] for c in candidates}
    assert any("pizza" in name for name in names) and any("bank" in name for name in names)
    pizza = next(c for c in candidates if "pizza" in c["name"])
    assert {e["text"] for e in pizza["examples"]} == set(PIZZA)
    adopted = app_client.post(
        f"{url}/adopt",
        json={"label": "order_pizza", "item_ids": pizza["item_ids"]},
        headers=manager.headers,
    )
    assert adopted.status_code == 200, adopted.text
    assert adopted.json() == {"label": "order_pizza", "config_version": 2, "items": 3, "routed": 3}
    schema = app_client.get(f"/api/v1/projects/{project}", headers=manager.headers).json()
    assert "order_pizza" in [label["key"] for label in schema["config"]["task"]["labels"]]
    _, rows = _state(db, project)
    routed = {item for item, resolution, complete in rows if resolution == "human" and not complete}
    assert routed == set(pizza["item_ids"])
    with db.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "new_intent.adopt")
        ).one()
        assert event.details["routed"] == 3 and event.target == "order_pizza"


def test_new_intents_need_credentials_and_a_manager(app_client: TestClient, db: Database) -> None:
    project, _, annotator = _world(app_client, db)
    url = f"/api/v1/projects/{project}/new-intents"
    body = {"label": "order_pizza", "item_ids": [1]}
    before = snapshot(db), _state(db, project)
    assert app_client.get(url).status_code == 401
    assert app_client.post(f"{url}/adopt", json=body).status_code == 401
    assert app_client.get(url, headers=annotator.headers).status_code == 403
    assert app_client.post(f"{url}/adopt", json=body, headers=annotator.headers).status_code == 403
    assert (snapshot(db), _state(db, project)) == before


def test_a_refused_adoption_changes_nothing(app_client: TestClient, db: Database) -> None:
    project, manager, _ = _world(app_client, db)
    url = f"/api/v1/projects/{project}/new-intents/adopt"
    before = snapshot(db), _state(db, project)
    for body in (
        {"label": "call", "item_ids": [1]},  # already a label
        {"label": "not a key!", "item_ids": [1]},
        {"label": "order_pizza", "item_ids": []},
        {"label": "order_pizza", "item_ids": [1, 999]},  # not a predicted item
        {"label": "order_pizza", "item_ids": [1], "extra": 1},
    ):
        response = app_client.post(url, json=body, headers=manager.headers)
        assert response.status_code == 422, (body, response.text)
    assert (snapshot(db), _state(db, project)) == before
