"""A manager's webhooks page in a real browser: add a webhook (its secret shown once),
send a ping, pause it; every button goes through the JSON API with the CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from tests.browser.harness import MARKS, Site, chromium, person, serve, sign_in
from tests.factories import make_project

from loupe.db.webhook_models import Webhook, WebhookDelivery

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = MARKS


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_a_manager_adds_pings_and_pauses_a_webhook(site: Site, browser: Browser) -> None:
    from playwright.sync_api import expect

    mgr = person(site, "mgr")
    project = make_project(site.db, members={mgr: "manager"})
    page = sign_in(browser, site, mgr)
    page.goto(f"{site.url}/projects/{project}/webhooks")
    expect(page.locator("#no-webhooks")).to_be_visible()
    page.get_by_label("URL (http or https)").fill("https://receiver.invalid/loupe")
    page.get_by_role("checkbox", name="payout.made").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#webhook-secret")).to_be_visible()
    shown = page.locator("#webhook-secret code").inner_text()
    assert shown.startswith("whsec_")
    with site.db.transaction(readonly=True) as session:
        (hook,) = session.scalars(select(Webhook)).all()
        assert "payout.made" not in hook.events and "item.completed" in hook.events
        assert shown.encode() not in hook.secret_sealed
    page.reload()
    row = page.locator("#webhook-1")
    expect(row).to_contain_text("https://receiver.invalid/loupe")
    assert shown not in page.content()  # shown once only
    row.get_by_role("button", name="Send a ping").click()
    expect(page.locator("#deliveries .delivery")).to_have_count(1)
    with site.db.transaction(readonly=True) as session:
        assert session.scalars(select(WebhookDelivery.event)).all() == ["ping"]
    row.get_by_role("button", name="Pause").click()
    expect(page.locator("#webhook-1 .state")).to_have_text("paused")
