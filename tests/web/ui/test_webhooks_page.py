"""``/projects/{id}/webhooks``: managers see their webhooks and the delivery log (never a
secret); others are refused; the page's buttons use the API with the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.factories import make_project, make_user
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.projects import webhooks
from loupe.settings import Settings
from loupe.web.app import create_app

KEY = bytes(32)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    quiet = settings.model_copy(update={"webhook_interval_seconds": 0})
    with TestClient(create_app(quiet), raise_server_exceptions=False) as test_client:
        yield test_client


def test_managers_see_hooks_and_the_log_others_are_refused(
    client: TestClient, db: Database
) -> None:
    mgr, ann = make_user(db, "mgr"), make_user(db, "ann")
    project = make_project(db, members={mgr: "manager", ann: "annotator"})
    with db.transaction() as session:
        created = webhooks.create_webhook(
            session,
            Actor.system(),
            project,
            url="https://receiver.example/<b>hook</b>",
            events=["item.completed"],
            key=KEY,
        )
        delivery = webhooks.ping(session, Actor.system(), project, created.webhook.id)
        delivery_id = delivery.delivery_id
    signed_out = client.get(f"/projects/{project}/webhooks", headers=HTML, follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
    csrf = sign_in(client, db, mgr)
    settings_page = client.get(f"/projects/{project}/settings", headers=HTML)
    assert f'href="/projects/{project}/webhooks"' in settings_page.text  # linked from settings
    page = client.get(f"/projects/{project}/webhooks", headers=HTML)
    assert page.status_code == 200, page.text
    assert 'id="webhook-1"' in page.text and "item.completed" in page.text
    assert "&lt;b&gt;hook&lt;/b&gt;" in page.text and "<b>hook" not in page.text  # escaped
    assert f'id="delivery-{delivery_id}"' in page.text and "pending" in page.text
    assert f'<meta name="csrf-token" content="{csrf}">' in page.text
    assert created.secret not in page.text
    assert "webhooks.js" in page.text
    failed = client.get(f"/projects/{project}/webhooks?status=failed", headers=HTML)
    assert 'id="no-deliveries"' in failed.text
    assert client.get(f"/projects/{project}/webhooks?status=lost", headers=HTML).status_code == 422
    # A cookie-authenticated write from the page needs the CSRF token.
    ping = f"/api/v1/projects/{project}/webhooks/1/ping"
    assert client.post(ping).status_code == 403
    assert client.post(ping, headers={"X-CSRF-Token": csrf}).status_code == 202
    client.cookies.clear()
    sign_in(client, db, ann)
    assert client.get(f"/projects/{project}/webhooks", headers=HTML).status_code == 403


def test_the_script_is_served(client: TestClient) -> None:
    script = client.get("/static/webhooks.js")
    assert script.status_code == 200 and 'from "./api.js"' in script.text
