"""``DELETE /projects/{id}/items/{item}/labels/mine``: undo within the grace period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.factories import (
    add_items,
    count,
    make_project,
    make_rate_card,
    make_user,
    snapshot,
)

from loupe.db.database import Database
from loupe.db.ledger_models import LedgerEntry
from loupe.db.models import Consensus, Item, Label, utcnow
from loupe.services.payments.ledger_keys import init_keys
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/payments"


def _label(
    client: TestClient, headers: dict[str, str], project: int, item: int, answer: str
) -> None:
    """Take ``item`` as the next task (a label needs its lease) and label it."""
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=headers)
    assert task.json()["task"]["item_id"] == item, task.text
    response = client.post(
        f"/api/v1/projects/{project}/items/{item}/labels", json={"answer": answer}, headers=headers
    )
    assert response.status_code == 201, response.text


def test_undo_withdraws_the_label_and_hands_the_item_back(
    app_client: TestClient, db: Database
) -> None:
    maya, ben = make_user(db, "maya"), make_user(db, "ben")
    project = make_project(db, overlap=2, members={maya: "annotator", ben: "annotator"})
    add_items(db, project, 2)
    _label(app_client, ben.headers, project, 1, "music")
    _label(app_client, maya.headers, project, 1, "call")

    response = app_client.delete(
        f"/api/v1/projects/{project}/items/1/labels/mine", headers=maya.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "item_id": 1,
        "label_id": 2,
        "answer": "call",
        "label_count": 1,
        "correction_index": None,
    }
    with db.transaction(readonly=True) as session:
        item = session.get(Item, 1)
        assert item is not None and item.label_count == 1 and not item.is_complete
        consensus = session.get(Consensus, 1)
        assert consensus is not None
        assert (consensus.answer, consensus.n_labels) == ("music", 1)
        assert session.scalar(select(Label.user_id)) == ben.id
    again = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=maya.headers)
    assert again.json()["task"]["item_id"] == 1


def test_undoing_the_only_label_removes_the_consensus(app_client: TestClient, db: Database) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 1)
    _label(app_client, maya.headers, project, 1, "call")
    assert count(db, "consensus") == 1
    response = app_client.delete(
        f"/api/v1/projects/{project}/items/1/labels/mine", headers=maya.headers
    )
    assert response.status_code == 200
    assert count(db, "consensus") == 0 and count(db, "labels") == 0


def test_undo_after_the_grace_period_is_409_and_changes_nothing(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 1)
    _label(app_client, maya.headers, project, 1, "call")
    with db.transaction() as session:
        session.execute(update(Label).values(created_at=utcnow() - timedelta(seconds=31)))
    before = snapshot(db)
    response = app_client.delete(
        f"/api/v1/projects/{project}/items/1/labels/mine", headers=maya.headers
    )
    assert response.status_code == 409
    assert "30 s undo grace period" in response.json()["error"]["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("who", "status"), [("none", 401), ("outsider", 403), ("other", 404), ("auditor", 403)]
)
def test_undo_refusals(app_client: TestClient, db: Database, who: str, status: int) -> None:
    maya = make_user(db, "maya")
    other = make_user(db, "other")
    auditor = make_user(db, "audrey", "auditor")
    outsider = make_user(db, "outsider")
    project = make_project(db, members={maya: "annotator", other: "annotator"})
    add_items(db, project, 1)
    _label(app_client, maya.headers, project, 1, "call")
    headers = {"none": {}, "outsider": outsider.headers, "other": other.headers}.get(
        who, auditor.headers
    )
    before = snapshot(db)
    response = app_client.delete(f"/api/v1/projects/{project}/items/1/labels/mine", headers=headers)
    assert response.status_code == status, response.text
    assert snapshot(db) == before


def test_undo_is_422_for_a_bad_id(app_client: TestClient, db: Database) -> None:
    maya = make_user(db, "maya")
    response = app_client.delete("/api/v1/projects/0/items/1/labels/mine", headers=maya.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_undoing_a_paid_label_appends_a_correction(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, key_dir=tmp_path / "keys", ledger_origin=ORIGIN)
    init_keys(tmp_path / "keys", origin=ORIGIN)
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 1)
    make_rate_card(db, project)
    with TestClient(create_app(settings)) as client:
        _label(client, maya.headers, project, 1, "call")
        response = client.delete(
            f"/api/v1/projects/{project}/items/1/labels/mine", headers=maya.headers
        )
        assert response.status_code == 200
        assert response.json()["correction_index"] == 1
        wallet = client.get("/api/v1/wallet", headers=maya.headers).json()
    assert wallet["balances"][0]["balance_minor"] == 0
    with db.transaction(readonly=True) as session:
        rows = session.execute(
            select(LedgerEntry.kind, LedgerEntry.delta_minor, LedgerEntry.corrects).order_by(
                LedgerEntry.idx
            )
        ).all()
    assert [tuple(row) for row in rows] == [("earning", 5, None), ("correction", -5, 0)]
