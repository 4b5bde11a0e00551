from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import make_project, make_user, snapshot
from tests.loop_helpers import add_gold, configure, label_items

from loupe.db.database import Database
from loupe.learning.persistence import ModelStore
from loupe.services.model_loop.model_versions import model_key
from loupe.settings import Settings


def _item(i: int, label: str = "call", p: float = 0.6) -> dict[str, Any]:
    rest = (1 - p) / 2
    return {
        "id": f"p{i}",
        "text": f"call Maya Lopez on +1 415 555 01{i:02d}" if i == 0 else f"call number {i}",
        "language": "en",
        "prediction": {
            "label": label,
            "probabilities": {"call": p, "music": rest, "navigate": rest},
        },
        "model_version": "v1",
    }


def test_predictions_go_through_the_gate_and_the_selection(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project, audit_share=0.0, label_share=0.5)
    url = f"/api/v1/projects/{project}/predictions"
    body = {"items": [_item(i, p=0.4 + 0.05 * i) for i in range(4)]}
    response = app_client.post(url, json=body, headers=manager.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 4,
        "created": 4,
        "existing": 0,
        "to_people": 2,
        "model_resolved": 2,
        "redacted": 1,
        "by_strategy": {"margin": 2},
    }
    again = app_client.post(url, json=body, headers=manager.headers).json()
    assert (again["created"], again["existing"], again["to_people"]) == (0, 4, 0)
    items = app_client.get(f"/api/v1/projects/{project}/items", headers=manager.headers).json()
    first = items["items"][0]
    assert "+1 415" not in first["data"]["text"] and "Maya" not in first["data"]["text"]
    assert first["metadata"]["prediction"] == {
        "label": "call", "confidence": 0.4, "model_version": "v1",
    }  # fmt: skip
    agreement = app_client.get(f"{url}/agreement", headers=manager.headers)
    assert agreement.status_code == 200
    assert agreement.json()["n_predictions"] == 4 and agreement.json()["n_to_people"] == 2


def test_predictions_need_credentials_and_rights(app_client: TestClient, db: Database) -> None:
    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    url = f"/api/v1/projects/{project}/predictions"
    before = snapshot(db)
    assert app_client.post(url, json={"items": [_item(1)]}).status_code == 401
    response = app_client.post(url, json={"items": [_item(1)]}, headers=annotator.headers)
    assert response.status_code == 403
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "items",
    [
        [_item(1, label="fly")],
        [{**_item(1), "prediction": {"label": "call", "probabilities": {"call": 0.2}}}],
        [{**_item(1), "text": ""}],
        [{**_item(1), "domain": "Not A Tag"}],
        [_item(0), {**_item(1), "domain": "calls-ana-ruiz-447946095800"}],
        [_item(i) for i in range(1001)],
    ],
    ids=[
        "unknown-label",
        "not-normalised",
        "empty-text",
        "bad-domain",
        "personal-domain",
        "too-many",
    ],
)
def test_bad_predictions_are_422_and_change_nothing(
    app_client: TestClient, db: Database, items: list[dict[str, Any]]
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    before = snapshot(db)
    response = app_client.post(
        f"/api/v1/projects/{project}/predictions", json={"items": items}, headers=manager.headers
    )
    assert response.status_code == 422, response.text
    assert snapshot(db) == before


def test_models_endpoint_lists_versions(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    add_gold(db, project)
    label_items(db, project, manager, 4)
    url = f"/api/v1/projects/{project}/models"
    assert app_client.get(url).status_code == 401
    assert app_client.post(f"{url}/retrain", headers=annotator.headers).status_code == 403
    created = app_client.post(f"{url}/retrain", headers=manager.headers)
    assert created.status_code == 200, created.text
    listed = app_client.get(url, headers=manager.headers).json()
    assert [m["version"] for m in listed] == [1]
    assert listed[0]["promoted"] is True and listed[0]["n_training"] == 12
    assert set(listed[0]["metrics"]) >= {"accuracy", "macro_f1", "n"}
    # The promoted model's weights are kept for a restart.
    stored = ModelStore(settings.resolved_model_dir()).load(model_key(project, 1))
    assert stored is not None and "call" in stored.classes_


# --- the champion serves: POST /projects/{id}/predict ------------------------------------


def _predict(client: TestClient, project: int, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/projects/{project}/predict", json=body, headers=headers)


def test_the_champion_serves_after_a_restart_without_retraining(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loupe.web.app import create_app

    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_gold(db, project)
    label_items(db, project, manager, 4)
    texts = ["ring the office", "play a tune"]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert _predict(client, project, manager.headers, texts=texts).status_code == 409
        trained = client.post(f"/api/v1/projects/{project}/models/retrain", headers=manager.headers)
        assert trained.status_code == 200 and trained.json()["promoted"] is True
        before = _predict(client, project, manager.headers, texts=texts).json()
    # Restart: a new app on the same database and model directory; nothing may train.
    monkeypatch.setattr(
        "loupe.services.model_loop.training.get_trainer",
        lambda name: pytest.fail("the champion must load without retraining"),
    )
    monkeypatch.setattr(ModelStore, "save", lambda *a: pytest.fail("nothing may be written"))
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        after = _predict(client, project, manager.headers, texts=texts)
        again = _predict(client, project, manager.headers, texts=texts[:1])
    assert after.status_code == 200, after.text
    assert after.json() == before
    assert before["model_version"] == 1 and before["trainer"] == "tfidf-linear"
    assert before["labels"] == ["call", "music"] and before["classes"] == sorted(before["classes"])
    assert all(abs(sum(p.values()) - 1) < 1e-4 for p in before["probabilities"])
    assert again.json()["model_version"] == 1
    assert app.state.champions.loads == 1  # loaded lazily, once per process


def test_a_promotion_reaches_a_running_second_server(db: Database, settings: Settings) -> None:
    from loupe.services.model_loop.model_versions import retrain
    from loupe.web.app import create_app

    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_gold(db, project)
    label_items(db, project, manager, 4)
    store = ModelStore(settings.resolved_model_dir())
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=store)
    first, second = create_app(settings), create_app(settings)
    with (
        TestClient(first, raise_server_exceptions=False) as one,
        TestClient(second, raise_server_exceptions=False) as two,
    ):
        assert _predict(two, project, manager.headers, texts=["call"]).json()["model_version"] == 1
        with db.transaction() as session:  # another server promotes version 2
            retrain(
                session, manager.actor, project, store=store, min_improvement=0.0,
                shadow_min_items=0,
            )  # fmt: skip
        for client in (one, two):
            served = _predict(client, project, manager.headers, texts=["call"])
            assert served.json()["model_version"] == 2
    assert second.state.champions.loads == 2


def test_predict_needs_credentials_rights_and_good_input(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    from loupe.services.model_loop.model_versions import retrain

    manager = make_user(db, "mgr", "manager")
    annotator = make_user(db, "ann")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    add_gold(db, project)
    label_items(db, project, manager, 4)
    with db.transaction() as session:
        retrain(session, manager.actor, project, store=ModelStore(settings.resolved_model_dir()))
    before = snapshot(db)
    assert _predict(app_client, project, {}, texts=["call"]).status_code == 401
    assert _predict(app_client, project, annotator.headers, texts=["call"]).status_code == 403
    bad: list[dict[str, Any]] = [
        {},
        {"texts": []},
        {"texts": [""]},
        {"texts": ["   "]},
        {"texts": "call"},
        {"texts": ["call"], "model": 2},
        {"texts": ["x"] * 1001},
    ]
    for body in bad:
        response = _predict(app_client, project, manager.headers, **body)
        assert response.status_code == 422, (body, response.text)
    assert _predict(app_client, 999, manager.headers, texts=["call"]).status_code in (403, 404)
    assert snapshot(db) == before
    listed = app_client.get(f"/api/v1/projects/{project}/models", headers=manager.headers)
    assert listed.json()[0]["shadow_status"] is None and listed.json()[0]["shadow"] is None
