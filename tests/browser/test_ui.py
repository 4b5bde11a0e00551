"""The web UI in a real browser: Debian's Chromium driven by Playwright against a real
uvicorn server on 127.0.0.1 with a temporary SQLite database.

Run ``LOUPE_SCREENSHOTS=1 .venv/bin/pytest tests/browser`` to refresh
``docs/screenshots/*.png``; normal runs write nothing.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.browser.harness import (
    MARKS,
    Site,
    chromium,
    context_page,
    import_rows,
    serve,
    wait_item_change,
)
from tests.browser.harness import person as _person
from tests.browser.harness import shot as _shot
from tests.browser.harness import sign_in as _sign_in
from tests.factories import Person, make_project, make_rate_card

from loupe.services.access import Actor

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

GUIDELINES = (
    "Pick the intent the speaker wants carried out.\n"
    "• call: phone or video call someone\n"
    "• music: play, pause or choose music\n"
    "• navigate: directions or travel to a place"
)
UTTERANCES = [
    "call mum on video",
    "play something calm",
    "take me to the station",
    "ring Bo back",
    "next song please",
    "directions to the nearest pharmacy",
    "phone the office",
    "turn the music up",
    "how do I get to Anna's",
    "call the plumber tomorrow",
    "shuffle my running playlist",
    "route home avoiding tolls",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _import(site: Site, project: int, rows: list[dict[str, Any]]) -> None:
    import_rows(site, project, rows)


def _project(site: Site, members: dict[Person, str], *, name: str = "intents") -> int:
    project = make_project(site.db, name=name, members=members, overlap=1)
    with site.db.transaction() as session:
        from loupe.services.projects.definition import update_project

        update_project(session, Actor.system(), project, guidelines=GUIDELINES)
    rows: list[dict[str, Any]] = [
        {"id": f"u{i}", "text": text} for i, text in enumerate(UTTERANCES)
    ]
    rows[0]["metadata"] = {"prediction": {"label": "call", "score": 0.93}}
    _import(site, project, rows)
    return project


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _wait_item_change(page: Page, previous: str) -> None:
    wait_item_change(page, previous)


ANSWERS = ["1", "2", "3", "1", "2", "3", "1", "2", "3", "1"]  # the intents above, in order


def test_label_ten_items_by_keyboard_undo_one_and_see_the_dashboard(
    browser: Browser, site: Site
) -> None:
    maya, boss = _person(site, "maya"), _person(site, "boss", "manager")
    project = _project(site, {maya: "annotator", boss: "manager"})

    manager = _sign_in(browser, site, boss)
    _shot(manager, "home")
    manager.goto(f"{site.url}/projects/{project}/dashboard")
    assert manager.locator("#fig-labels").inner_text() == "0"

    page = _sign_in(browser, site, maya)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    assert page.locator("#prediction").is_visible()
    assert "call" in page.locator("#prediction").inner_text()

    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    _shot(page, "shortcuts", full_page=False)
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    assert page.locator("#guidelines").is_visible()
    page.keyboard.press("1")
    assert page.locator('.option[data-key="call"]').get_attribute("aria-pressed") == "true"
    _shot(page, "workspace")
    page.keyboard.press("g")

    seen = []
    for key in ANSWERS:
        current = _item_id(page)
        seen.append(current)
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        _wait_item_change(page, current)
    assert len(set(seen)) == 10
    assert page.locator("#tally-labels").inner_text() == "10"

    # U: the last label comes back to be labelled again, its answer preselected.
    page.keyboard.press("u")
    page.wait_for_function(f"document.getElementById('item').dataset.itemId === '{seen[-1]}'")
    assert page.locator("#tally-labels").inner_text() == "9"
    assert page.locator('.option[data-key="call"]').get_attribute("aria-pressed") == "true"
    assert "Undone" in page.locator("#status").inner_text()

    timings = page.evaluate("window.loupeTimings")
    assert len(timings) == 10
    _report("keystroke -> next item (ms)", timings)

    manager.reload()
    assert manager.locator("#fig-labels").inner_text() == "9"
    assert manager.locator("#fig-labelled").inner_text() == "9"
    assert "maya" in manager.locator("#contributors-table").inner_text()
    _shot(manager, "dashboard")

    tablet = _sign_in(browser, site, maya, viewport={"width": 820, "height": 1180})
    tablet.set_viewport_size({"width": 820, "height": 1180})
    tablet.goto(f"{site.url}/projects/{project}/work")
    tablet.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= 820  # no sideways scrolling at tablet width
    _shot(tablet, "workspace-tablet")


def test_the_wallet_verifies_each_entry_in_the_browser(browser: Browser, site: Site) -> None:
    maya = _person(site, "maya")
    project = _project(site, {maya: "annotator"})
    make_rate_card(site.db, project)
    page = _sign_in(browser, site, maya)
    page.goto(f"{site.url}/projects/{project}/work")
    for key in ["1", "2", "3"]:
        page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
        current = _item_id(page)
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        _wait_item_change(page, current)
    page.wait_for_function(
        "document.getElementById('tally-earnings').textContent.includes('0.15 EUR')"
    )
    assert "0.15 EUR" in page.locator("#tally-earnings").inner_text()

    page.goto(f"{site.url}/wallet")
    rows = page.locator("#entries tbody tr")
    assert rows.count() == 3
    page.get_by_role("button", name="Verify my entries").click()
    page.wait_for_function(
        "document.getElementById('checkpoint-status').textContent.includes('verified,')"
    )
    status = page.locator("#checkpoint-status").inner_text()
    assert "signature verified (Ed25519)" in status
    assert "3 verified, 0 failed" in status
    for i in range(3):
        assert rows.nth(i).locator(".verdict").inner_text() == "✓ verified"
    _shot(page, "wallet")

    # An entry altered on its way to the browser no longer verifies.
    page.evaluate(
        "() => { const row = document.querySelector('#entries tbody tr');"
        " row.dataset.leaf = row.dataset.leaf.replace('\"amount_minor\":5', '\"amount_minor\":500'); }"
    )
    page.get_by_role("button", name="Verify my entries").click()
    page.wait_for_function(
        "document.getElementById('checkpoint-status').textContent.includes('1 failed')"
    )
    assert rows.nth(0).locator(".verdict").inner_text().startswith("✗ failed")


def test_an_annotator_never_sees_a_raw_identifier(browser: Browser, site: Site) -> None:
    maya = _person(site, "maya")
    project = make_project(site.db, name="support", members={maya: "annotator"})
    email, phone = "maya.lopez@example.com", "+44 20 7946 0958"
    _import(site, project, [{"id": "t1", "text": f"write to {email} or call {phone} about it"}])
    page = _sign_in(browser, site, maya)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    text = page.locator("body").inner_text()
    html = page.content()
    assert email not in text and email not in html
    assert "7946" not in text
    assert "[EMAIL" in page.locator("#item-text").inner_text()
    _shot(page, "workspace-redacted", full_page=False)


def test_the_audit_log_for_an_auditor(browser: Browser, site: Site) -> None:
    audrey = _person(site, "audrey", "auditor")
    _person(site, "maya")
    page = _sign_in(browser, site, audrey)
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{site.url}/audit")
    assert "user.create" in page.locator("#audit").inner_text()
    _shot(page, "audit")


def test_sign_in_page_and_a_wrong_password(browser: Browser, site: Site) -> None:
    _person(site, "maya")
    page = context_page(browser)
    page.goto(f"{site.url}/login")
    _shot(page, "login", full_page=False)
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    # Regression (issue #15): the username was cleared; now it stays and the password
    # field (the one to retype) has the focus.
    assert page.get_by_label("Username").input_value() == "maya"
    page.wait_for_function("document.activeElement.id === 'password'")
    # Focus order: the username field (autofocused), the password, the button.
    page.goto(f"{site.url}/login")
    page.wait_for_function("document.activeElement.id === 'username'")  # autofocus applied
    script = "document.activeElement.id || document.activeElement.textContent.trim()"
    focused = [page.evaluate(script)]
    for _ in range(2):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(script))
    assert focused == ["username", "password", "Sign in"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # visible focus


def _report(what: str, values: list[float]) -> None:
    line = (
        f"{what}: median {statistics.median(values):.1f}, max {max(values):.1f}, "
        f"all {[round(v, 1) for v in values]}"
    )
    print(line)
    out = os.environ.get("LOUPE_TIMINGS_FILE")
    if out:
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
