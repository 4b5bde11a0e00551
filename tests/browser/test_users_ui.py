"""The admin's users page in a real browser: deactivate a user with the button, then
reactivate them (plain forms, no JavaScript needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from tests.browser.harness import MARKS, Site, chromium, person, serve, sign_in

from loupe.db.models import User

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


def _active(site: Site, user_id: int) -> bool:
    with site.db.transaction(readonly=True) as session:
        return bool(session.scalar(select(User.is_active).where(User.id == user_id)))


def test_an_admin_deactivates_and_reactivates_a_user(site: Site, browser: Browser) -> None:
    from playwright.sync_api import expect  # waits for the page after each form post

    root, maya = person(site, "root", "admin"), person(site, "maya")
    page = sign_in(browser, site, root)
    page.get_by_role("link", name="Users").click()
    status = page.locator(f"#user-{maya.id} .status")
    expect(status).to_have_text("active")
    page.get_by_role("button", name="Deactivate maya").click()
    expect(status).to_have_text("deactivated")
    assert not _active(site, maya.id)
    page.get_by_role("button", name="Reactivate maya").click()
    expect(status).to_have_text("active")
    assert _active(site, maya.id)
    expect(page.get_by_role("button", name="Deactivate root")).to_have_count(0)
