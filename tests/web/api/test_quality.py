from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import add_items, hold, make_project, make_user, snapshot

from loupe.db.database import Database


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
