"""The manager's new-intents page: candidates listed, one added as a label by its form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.factories import snapshot
from tests.web.api.test_new_intents import PIZZA, _world
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database


def test_a_manager_adds_a_candidate_as_a_label(app_client: TestClient, db: Database) -> None:
    project, manager, _ = _world(app_client, db)
    csrf = sign_in(app_client, db, manager)
    settings = app_client.get(f"/projects/{project}/settings", headers=HTML)
    assert f'href="/projects/{project}/new-intents"' in settings.text
    url = f"/projects/{project}/new-intents"
    listed = app_client.get(url, headers=HTML)
    assert listed.status_code == 200, listed.text
    assert listed.text.count("Add as label") == 2
    assert all(text in listed.text for text in PIZZA)
    forms = re.findall(r"<form.*?</form>", listed.text, re.S)
    form = next(f for f in forms if 'name="label" value="order_pizza' in f)
    item_ids = re.findall(r'name="item_ids" value="(\d+)"', form)
    assert len(item_ids) == 3
    before = snapshot(db)
    forged = app_client.post(
        f"{url}/adopt",
        data={"csrf_token": "forged", "label": "order_pizza", "item_ids": item_ids},
        headers=HTML,
    )
    assert forged.status_code == 403 and snapshot(db) == before
    done = app_client.post(
        f"{url}/adopt",
        data={"csrf_token": csrf, "label": "order_pizza", "item_ids": item_ids},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    after = app_client.get(done.headers["location"], headers=HTML)
    assert 'id="adopted"' in after.text and "order_pizza" in after.text
    assert "pizza" not in after.text.split('id="adopted"')[1].split("</p>")[1]
    assert after.text.count("Add as label") == 1


def test_annotators_do_not_get_the_new_intents_page(app_client: TestClient, db: Database) -> None:
    project, _, annotator = _world(app_client, db)
    sign_in(app_client, db, annotator)
    assert app_client.get(f"/projects/{project}/new-intents", headers=HTML).status_code == 403
