from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.factories import add_items, hold, make_project, make_user, snapshot

from loupe.aggregation import AGGREGATORS
from loupe.db.database import Database
from loupe.db.quality_models import QualityState
from loupe.services.quality import refits


def test_gold_quality_refit_and_escalations(app_client: TestClient, db: Database) -> None:
    manager, a, b = make_user(db, "mgr", "manager"), make_user(db, "a"), make_user(db, "b")
    project = make_project(
        db, overlap=2, members={manager: "manager", a: "annotator", b: "annotator"}
    )
    add_items(db, project, 4)
    gold = app_client.put(
        f"/api/v1/projects/{project}/gold",
        json={"items": [{"id": "u3", "answer": "call"}]},
        headers=manager.headers,
    )
    assert gold.status_code == 200
    assert gold.json() == {"marked": 1}
    for item in (1, 2):
        for person, answer in ((a, "call"), (b, "music" if item == 2 else "call")):
            hold(db, person, project, item)
            app_client.post(
                f"/api/v1/projects/{project}/items/{item}/labels",
                json={"answer": answer},
                headers=person.headers,
            )
    hold(db, a, project, 4)  # gold is answered only under the lease it was served with
    gold_label = app_client.post(
        f"/api/v1/projects/{project}/items/4/labels", json={"answer": "music"}, headers=a.headers
    )
    assert gold_label.status_code == 201
    assert gold_label.json()["gold"] == {"correct": False, "expected": "call", "paused": False}
    refit = app_client.post(f"/api/v1/projects/{project}/quality/refit", headers=manager.headers)
    assert refit.status_code == 200
    assert refit.json()["n_labels"] == 5
    assert refit.json()["method"] == "ds"
    report = app_client.get(f"/api/v1/projects/{project}/quality", headers=manager.headers).json()
    assert report["n_labels"] == 4  # gold answers are not agreement data
    assert report["gold"][0]["user_id"] == a.id
    assert report["gold"][0]["answered"] == 1
    assert set(report["skills"]) == {str(a.id), str(b.id)}
    page = app_client.get(f"/api/v1/projects/{project}/escalations", headers=manager.headers)
    assert page.json() == {"items": [], "next_after": None}


def test_quality_endpoints_refuse_and_change_nothing(app_client: TestClient, db: Database) -> None:
    manager, annotator = make_user(db, "mgr", "manager"), make_user(db, "a")
    project = make_project(db, members={manager: "manager", annotator: "annotator"})
    add_items(db, project, 1)
    before = snapshot(db)
    url = f"/api/v1/projects/{project}"
    body = {"items": [{"id": "u0", "answer": "call"}]}
    assert app_client.put(f"{url}/gold", json=body).status_code == 401
    assert app_client.put(f"{url}/gold", json=body, headers=annotator.headers).status_code == 403
    bad = app_client.put(
        f"{url}/gold", json={"items": [{"id": "u0", "answer": "dance"}]}, headers=manager.headers
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "answer"
    missing = app_client.put(
        f"{url}/gold", json={"items": [{"id": "zz", "answer": "call"}]}, headers=manager.headers
    )
    assert missing.status_code == 404
    assert (
        app_client.put(f"{url}/gold", json={"items": []}, headers=manager.headers).status_code
        == 422
    )
    assert app_client.get(f"{url}/quality", headers=annotator.headers).status_code == 403
    assert app_client.post(f"{url}/quality/refit", headers=annotator.headers).status_code == 403
    assert (
        app_client.post(
            f"{url}/members/{annotator.id}/resume", headers=annotator.headers
        ).status_code
        == 403
    )
    assert app_client.post(f"{url}/members/999/resume", headers=manager.headers).status_code == 404
    assert snapshot(db) == before


def _label(app_client: TestClient, db: Database, project: int, people: list[Any]) -> None:
    for item in (1, 2):
        for person in people:
            hold(db, person, project, item)
            response = app_client.post(
                f"/api/v1/projects/{project}/items/{item}/labels",
                json={"answer": "call"},
                headers=person.headers,
            )
            assert response.status_code == 201, response.text


def test_the_refit_endpoint_fits_with_no_transaction_open(
    app_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the endpoint re-fits in steps like the background loop; the request's
    own (writer) transaction is over before the fit starts."""
    manager, a, b = make_user(db, "mgr", "manager"), make_user(db, "a"), make_user(db, "b")
    project = make_project(
        db, overlap=2, members={manager: "manager", a: "annotator", b: "annotator"}
    )
    add_items(db, project, 2)
    _label(app_client, db, project, [a, b])
    engine = app_client.app.state.db.engine  # type: ignore[attr-defined]
    # Transactions begun minus ended, per thread: the fit runs in the handler's thread,
    # where the request's transaction was begun (the old endpoint fitted inside it).
    open_by_thread: dict[int, int] = {}

    def begin(connection: Any) -> None:
        key = threading.get_ident()
        open_by_thread[key] = open_by_thread.get(key, 0) + 1

    def end(connection: Any) -> None:
        key = threading.get_ident()
        open_by_thread[key] = open_by_thread.get(key, 0) - 1

    open_at_fit: list[int] = []
    original = AGGREGATORS["ds"]

    class Hooked:
        def __init__(self, **kwargs: Any) -> None:
            self._model = original(**kwargs)

        def fit(self, *args: Any, **kwargs: Any) -> Any:
            open_at_fit.append(open_by_thread.get(threading.get_ident(), 0))
            self._model.fit(*args, **kwargs)
            return self

        def __getattr__(self, name: str) -> Any:
            return getattr(self._model, name)

    monkeypatch.setitem(AGGREGATORS, "ds", Hooked)
    steps: list[int] = []
    stepped = refits.refit_in_steps

    def counting(*args: Any, **kwargs: Any) -> refits.RefitReport:
        steps.append(1)
        return stepped(*args, **kwargs)

    monkeypatch.setattr(refits, "refit_in_steps", counting)
    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    try:
        response = app_client.post(
            f"/api/v1/projects/{project}/quality/refit", headers=manager.headers
        )
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "commit", end)
        event.remove(engine, "rollback", end)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "project_id": project,
        "method": "ds",
        "n_labels": 4,
        "n_items": 2,
        "n_workers": 2,
    }
    assert open_at_fit == [0]  # no transaction, read or write, spans the fit
    assert steps == [1]


def test_the_refit_endpoint_refuses_and_changes_nothing(
    app_client: TestClient, db: Database
) -> None:
    manager, a, b = make_user(db, "mgr", "manager"), make_user(db, "a"), make_user(db, "b")
    project = make_project(
        db, overlap=2, members={manager: "manager", a: "annotator", b: "annotator"}
    )
    texts = make_project(
        db, name="texts", members={manager: "manager"}, config={"task": {"type": "free_text"}}
    )
    add_items(db, project, 2)
    _label(app_client, db, project, [a, b])
    with db.transaction() as session:  # another server is fitting it
        assert refits.claim_refit(session, project)
    before = snapshot(db)
    url = f"/api/v1/projects/{project}/quality/refit"
    assert app_client.post(url).status_code == 401
    assert app_client.post(url, headers=a.headers).status_code == 403
    missing = app_client.post("/api/v1/projects/999999/quality/refit", headers=manager.headers)
    assert missing.status_code == 404
    busy = app_client.post(url, headers=manager.headers)
    assert busy.status_code == 409
    assert "re-fitted already" in busy.json()["error"]["message"]
    other = app_client.post(f"/api/v1/projects/{texts}/quality/refit", headers=manager.headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "invalid_input"
    assert snapshot(db) == before
    with db.transaction(readonly=True) as session:
        assert session.get(QualityState, texts) is None  # not claimed either
