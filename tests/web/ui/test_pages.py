"""The pages render what the services say, for the roles the policy admits."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.factories import add_items, make_project, make_rate_card, make_user
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance import audit_log
from loupe.services.payments.ledger_keys import init_keys
from loupe.services.projects.items import insert_items
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/payments"


def _label(client: TestClient, csrf: str, project: int, item: int, answer: str) -> None:
    """Take ``item`` as the next task (a label needs its lease) and label it."""
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers={"X-CSRF-Token": csrf})
    assert task.json()["task"]["item_id"] == item, task.text
    response = client.post(
        f"/api/v1/projects/{project}/items/{item}/labels",
        json={"answer": answer},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text


def test_home_lists_projects_with_what_each_role_may_do(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    make_project(db, name="intents", members={maya: "annotator"})
    make_project(db, name="secret")
    sign_in(app_client, db, maya)
    page = app_client.get("/")
    assert "intents" in page.text and "secret" not in page.text
    assert 'href="/projects/1/work"' in page.text
    assert "/projects/1/dashboard" not in page.text
    assert 'href="/wallet"' in page.text and 'href="/audit"' not in page.text


def test_workspace_renders_labels_shortcuts_and_guidelines(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    csrf = sign_in(app_client, db, maya)
    page = app_client.get(f"/projects/{project}/work")
    assert page.status_code == 200
    text = page.text
    for shortcut, key in [("1", "call"), ("2", "music"), ("3", "navigate")]:
        assert re.search(
            rf'data-key="{key}" aria-pressed="false"\s+aria-keyshortcuts="{shortcut}"', text
        )
    assert f'<meta name="csrf-token" content="{csrf}">' in text
    assert 'id="help"' in text and 'id="guidelines"' in text
    assert 'Today: <strong id="tally-labels">0</strong>' in text
    assert "/static/workspace.js" in text


def test_workspace_next_carries_the_pre_label_and_no_gold_flag(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    records = [
        parse_item(
            {
                "id": "u1",
                "text": "ring mum",
                "metadata": {"prediction": {"label": "call", "score": 0.92}, "gold": True},
            },
            where="test",
            text_field="text",
        )
    ]
    with db.transaction() as session:
        insert_items(session, Actor.system(), project, records)
    csrf = sign_in(app_client, db, maya)
    found = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf}).json()
    assert found["task"]["data"] == {"text": "ring mum"}
    assert found["prediction"] == {"label": "call", "score": 0.92}
    assert "gold" not in found  # gold items look like any other until answered
    _label(app_client, csrf, project, 1, "call")
    assert app_client.get(f"/projects/{project}/work/today").json() == {
        "labels": 1,
        "earnings": {},
    }
    done = app_client.post(f"/projects/{project}/work/next", headers={"X-CSRF-Token": csrf})
    assert done.json() == {"task": None, "prediction": None, "swapped": False}


def test_dashboard_shows_progress_agreement_and_contributors(
    app_client: TestClient, db: Database
) -> None:
    boss, maya, ben = make_user(db, "boss", "manager"), make_user(db, "maya"), make_user(db, "ben")
    project = make_project(
        db, overlap=2, members={boss: "manager", maya: "annotator", ben: "annotator"}
    )
    add_items(db, project, 4)
    for item, (a, b) in enumerate([("call", "call"), ("music", "music"), ("call", "navigate")], 1):
        for person, answer in [(maya, a), (ben, b)]:
            task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=person.headers)
            assert task.json()["task"]["item_id"] == item
            response = app_client.post(
                f"/api/v1/projects/{project}/items/{item}/labels",
                json={"answer": answer},
                headers=person.headers,
            )
            assert response.status_code == 201
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/dashboard", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert '<dd id="fig-items">4</dd>' in text
    assert '<dd id="fig-labelled">3</dd>' in text
    assert '<dd id="fig-settled">3</dd>' in text and '<dd id="fig-waiting">1</dd>' in text
    assert '<dd id="fig-labels">6</dd>' in text
    assert re.search(r'<dd id="fig-kappa">0\.\d{3}</dd>', text)
    assert '<dd id="fig-cost">nothing spent</dd>' in text  # managers may see cost
    assert "<td>maya</td><td>3</td>" in text and "<td>ben</td><td>3</td>" in text
    assert text.count('class="bar"') >= 14  # one column per day, one bar per contributor


def test_wallet_lists_entries_with_proofs_against_the_checkpoint(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
        ledger_checkpoint_every=1,
    )
    init_keys(tmp_path / "keys", origin=ORIGIN)
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    add_items(db, project, 2)
    make_rate_card(db, project)
    with TestClient(create_app(settings)) as client:
        csrf = sign_in(client, db, maya)
        _label(client, csrf, project, 1, "call")
        _label(client, csrf, project, 2, "music")
        page = client.get("/wallet")
    assert page.status_code == 200
    assert page.text.count('data-leaf="') == 2
    assert "0.10 EUR" in page.text  # the balance: two labels at 5 cents
    assert '"note": "test.loupe/payments\\n2\\n' in page.text
    assert "/static/wallet.js" in page.text


def test_audit_log_pages_for_auditors(app_client: TestClient, db: Database) -> None:
    audrey = make_user(db, "audrey", "auditor")
    with db.transaction() as session:
        for i in range(60):
            audit_log.record(session, Actor.system(), "test.event", target=f"thing:{i}")
    sign_in(app_client, db, audrey)
    first = app_client.get("/audit")
    assert first.status_code == 200
    rows = re.findall(r"<tr><td>(\d+)</td>", first.text)
    assert len(rows) == 50
    found = re.search(r'href="/audit\?after=(\d+)"', first.text)
    assert found
    second = app_client.get(f"/audit?after={found.group(1)}")
    later = [int(seq) for seq in re.findall(r"<tr><td>(\d+)</td>", second.text)]
    assert later and min(later) > int(rows[-1])
    filtered = app_client.get("/audit?action=test.event")
    assert "thing:0" in filtered.text
