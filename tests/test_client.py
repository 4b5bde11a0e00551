from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.factories import make_project, make_user
from tests.loop_helpers import add_gold, label_items

from loupe.client import LoupeClient, LoupeClientError, Prediction
from loupe.db.database import Database


def test_client_round_trip(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_gold(db, project)
    label_items(db, project, manager, 4)
    client = LoupeClient("http://testserver", manager.token, http=app_client, batch_size=2)
    probs = {"call": 0.7, "music": 0.2, "navigate": 0.1}
    sent = client.send_predictions(
        project, [Prediction(f"c{i}", f"call {i}", "call", probs) for i in range(5)]
    )
    assert (sent.received, sent.created) == (5, 5)
    resolved = list(client.resolved_labels(project))
    assert len(resolved) == 12 and {"id", "answer"} <= set(resolved[0])
    assert client.promoted_model(project) is None
    app_client.post(f"/api/v1/projects/{project}/models/retrain", headers=manager.headers)
    champion = client.promoted_model(project)
    assert champion is not None and champion.version == 1
    with pytest.raises(LoupeClientError) as error:
        client.send_predictions(project, [Prediction("x", "t", "fly", {"call": 1.0})])
    assert error.value.status == 422 and error.value.code == "invalid_input"


def test_client_retries_busy_and_unreachable_servers() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(calls) == 2:
            return httpx.Response(503, json={"error": {"code": "busy", "message": "later"}})
        if len(calls) == 3:
            return httpx.Response(429, json={"error": {"code": "slow", "message": "down"}})
        return httpx.Response(200, json=[])

    client = LoupeClient("http://x", "t", transport=httpx.MockTransport(handler), backoff=0)
    assert client.models(1) == []
    assert len(calls) == 4
    client.close()
