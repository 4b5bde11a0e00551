"""The web UI in a real browser: Debian's Chromium driven by Playwright against a real
uvicorn server on 127.0.0.1 with a temporary SQLite database.

Run ``LOUPE_SCREENSHOTS=1 .venv/bin/pytest tests/browser`` to refresh
``docs/screenshots/*.png``; normal runs write nothing.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.factories import Person, make_project, make_rate_card, make_user

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services import users
from loupe.services.access import Actor
from loupe.services.items import insert_items
from loupe.services.ledger_keys import init_keys
from loupe.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
ORIGIN = "test.loupe/payments"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
    pytest.mark.skipif(
        sync_playwright is None, reason="needs the playwright package (pip install playwright)"
    ),
]

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


@dataclass
class Site:
    url: str
    db: Database
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    import uvicorn

    from loupe.web.app import create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'loupe.db'}",
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
        ledger_checkpoint_every=1,
    )
    init_keys(tmp_path / "keys", origin=ORIGIN)
    db = Database(settings.database_url)
    db.migrate()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Site(f"http://127.0.0.1:{port}", db, settings)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _person(site: Site, username: str, role: str = "annotator") -> Person:
    person = make_user(site.db, username, role)
    with site.db.transaction() as session:
        users.set_password(session, Actor.system(), user_id=person.id, password=PASSWORD)
    return person


def _import(site: Site, project: int, rows: list[dict[str, Any]]) -> None:
    records = [parse_item(row, where="test", text_field="text") for row in rows]
    with site.db.transaction() as session:
        insert_items(session, Actor.system(), project, records)


def _project(site: Site, members: dict[Person, str], *, name: str = "intents") -> int:
    project = make_project(site.db, name=name, members=members, overlap=1)
    with site.db.transaction() as session:
        from loupe.services.projects import update_project

        update_project(session, Actor.system(), project, guidelines=GUIDELINES)
    rows: list[dict[str, Any]] = [
        {"id": f"u{i}", "text": text} for i, text in enumerate(UTTERANCES)
    ]
    rows[0]["metadata"] = {"prediction": {"label": "call", "score": 0.93}}
    _import(site, project, rows)
    return project


def _context_page(browser: Browser, **context: Any) -> Page:
    # The pages' CSP forbids eval; Playwright's wait_for_function evaluates strings.
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "bypass_csp": True}
    return browser.new_context(**{**options, **context}).new_page()


def _sign_in(browser: Browser, site: Site, person: Person, **context: Any) -> Page:
    page = _context_page(browser, **context)
    page.goto(f"{site.url}/")
    assert "/login" in page.url
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/")
    return page


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    if os.environ.get("LOUPE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _wait_item_change(page: Page, previous: str) -> None:
    page.wait_for_function(
        "prev => { const id = document.getElementById('item').dataset.itemId;"
        " return id !== prev && id !== ''; }",
        arg=previous,
    )


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
    page.wait_for_function("document.getElementById('tally-earnings').textContent.includes('EUR')")
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
    page = _context_page(browser)
    page.goto(f"{site.url}/login")
    _shot(page, "login", full_page=False)
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong" in page.get_by_role("alert").inner_text()
    # Focus order: the username field (autofocused), the password, the button.
    page.goto(f"{site.url}/login")
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
