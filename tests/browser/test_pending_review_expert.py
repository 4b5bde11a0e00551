"""Honest pending states on the review and expert pages in Chromium (issue #15), as in
the workspace: "Saving…" while a verdict or answer is in flight with every control
locked (aria-busy), "Saved" once it is, the answer kept when saving fails, and a saved
decision whose next item failed to load said apart from a failed save, with a retry.

The API is intercepted with ``page.route`` to hold or fail a request; the tests wait for
what the page says (no fixed deadlines)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from tests.browser.harness import MARKS, Site, chromium, import_rows, person, serve, sign_in
from tests.factories import grant_level, make_project
from tests.web.ui.scenarios import SCHEMAS, flag_next, label_next, reviewed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = MARKS

STATUS = "document.getElementById('status').textContent"
ROWS = [{"id": f"r{i}", "text": text} for i, text in enumerate(["ring Bo", "play jazz", "go"])]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _count(site: Site, sql: str) -> int:
    with site.db.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _wait_status(page: Page, text: str) -> None:
    page.wait_for_function(f"t => {STATUS}.includes(t)", arg=text)


def _wait_busy(page: Page, form: str, busy: bool) -> None:
    page.wait_for_function(
        "([id, busy]) => document.getElementById(id).ariaBusy === busy",
        arg=[form, "true" if busy else "false"],
    )


def _wait_next(page: Page, previous: str) -> None:
    page.wait_for_function(
        "prev => { const id = document.getElementById('item').dataset.itemId;"
        " return id !== prev && id !== ''; }",
        arg=previous,
    )


def _held(page: Page, pattern: str) -> list[Route]:
    held: list[Route] = []
    page.route(pattern, lambda route: held.append(route))
    return held


def _release(page: Page, held: list[Route]) -> None:
    while not held:  # the intercepted request reaches the test's handler (readiness)
        page.wait_for_timeout(10)
    held[0].continue_()


def _option(page: Page, key: str) -> str | None:
    return page.locator(f'.option[data-key="{key}"]').get_attribute("aria-pressed")


def _review_page(browser: Browser, site: Site) -> Page:
    maya, rev = person(site, "maya"), person(site, "rev")
    config = reviewed(SCHEMAS["single_choice"])
    project = make_project(site.db, config=config, members={maya: "annotator", rev: "reviewer"})
    import_rows(site, project, ROWS)
    for _ in ROWS:
        label_next(site.db, maya, project, "call")
    page = sign_in(browser, site, rev)
    page.goto(f"{site.url}/projects/{project}/review")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return page


def _expert_page(browser: Browser, site: Site) -> Page:
    maya, doc = person(site, "maya"), person(site, "doc")
    project = make_project(
        site.db, config=SCHEMAS["single_choice"], members={maya: "annotator", doc: "annotator"}
    )
    import_rows(site, project, ROWS)
    grant_level(site.db, doc, "general", 3)
    for reason in ("sounds urgent", "two intents", "unclear"):
        flag_next(site.db, maya, project, reason)
    page = sign_in(browser, site, doc)
    page.goto(f"{site.url}/projects/{project}/expert")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return page


def test_a_correction_being_saved_is_locked_then_saved(browser: Browser, site: Site) -> None:
    page = _review_page(browser, site)
    first = _item_id(page)
    page.keyboard.press("a")
    _wait_status(page, "Saved. Accepted item")
    _wait_next(page, first)

    shown = _item_id(page)
    held = _held(page, "**/labels/*/reviews")
    page.keyboard.press("c")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    _wait_status(page, "Saving…")  # the previous "Saved" is gone
    _wait_busy(page, "review-form", True)
    assert "Saved" not in page.evaluate(STATUS)
    for button in ("#submit-correction", "#cancel-correction", "#accept", "#reject"):
        assert page.locator(button).is_disabled(), button
    assert page.locator('.option[data-key="call"]').is_disabled()
    page.keyboard.press("1")  # refused visibly (disabled), not taken and then dropped
    page.keyboard.press("Escape")  # the correction being saved is not cancelled
    assert _option(page, "navigate") == "true" and _option(page, "call") == "false"
    assert page.locator("#correction").is_visible()
    _release(page, held)
    _wait_status(page, "Saved. Corrected item")
    _wait_busy(page, "review-form", False)
    assert _item_id(page) != shown
    assert page.locator("#accept").is_enabled()
    assert _count(site, "SELECT count(*) FROM reviews WHERE verdict = 'correct'") == 1


def test_a_failed_verdict_keeps_the_correction(browser: Browser, site: Site) -> None:
    page = _review_page(browser, site)
    shown = _item_id(page)
    page.route("**/labels/*/reviews", lambda route: route.abort())
    page.keyboard.press("c")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    _wait_status(page, "Not saved")
    assert "your correction is still here" in page.evaluate(STATUS)
    assert _item_id(page) == shown and page.locator("#correction").is_visible()
    assert _option(page, "music") == "true"
    assert page.locator('.option[data-key="music"]').is_enabled()
    assert page.locator("#retry").is_hidden()
    assert _count(site, "SELECT count(*) FROM reviews") == 0
    page.unroute("**/labels/*/reviews")
    page.keyboard.press("Enter")
    _wait_status(page, "Saved. Corrected item")


def test_a_saved_verdict_whose_next_review_failed_says_so_and_retries(
    browser: Browser, site: Site
) -> None:
    page = _review_page(browser, site)
    decided = _item_id(page)
    assert page.locator("#retry").is_hidden()
    page.route("**/reviews/next", lambda route: route.abort())
    page.keyboard.press("a")
    _wait_status(page, "Loading the next item failed")
    status = page.evaluate(STATUS)
    assert status.startswith(f"Saved. Accepted item #{decided};")  # it was saved: say so
    assert "Failed to fetch" not in status.split("Loading")[0]
    assert page.locator("#retry").is_visible()
    assert page.locator("#accept").is_disabled()  # the saved verdict cannot be sent twice
    assert _count(site, "SELECT count(*) FROM reviews") == 1
    page.unroute("**/reviews/next")
    page.locator("#retry").click()
    _wait_next(page, decided)
    assert page.locator("#retry").is_hidden()
    assert page.locator("#accept").is_enabled()


def test_an_expert_answer_being_saved_is_locked_then_saved(browser: Browser, site: Site) -> None:
    page = _expert_page(browser, site)
    shown = _item_id(page)
    held = _held(page, "**/resolve")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    _wait_status(page, "Saving…")
    _wait_busy(page, "answer-form", True)
    for button in ("#submit", "#pass-up"):
        assert page.locator(button).is_disabled(), button
    page.keyboard.press("1")  # the answer cannot change while it is being saved
    page.keyboard.press("p")  # nor can the item be passed up meanwhile
    assert _option(page, "music") == "true" and _option(page, "call") == "false"
    assert page.locator("#pass-dialog").is_hidden()
    _release(page, held)
    _wait_status(page, f"Saved. Item #{shown} settled: “music”.")
    _wait_busy(page, "answer-form", False)
    assert _item_id(page) != shown
    assert page.locator("#submit").is_enabled()


def test_an_expert_whose_next_item_failed_is_told_the_answer_was_saved(
    browser: Browser, site: Site
) -> None:
    page = _expert_page(browser, site)
    settled = _item_id(page)
    page.route("**/expert-tasks/next", lambda route: route.abort())
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_status(page, "Loading the next item failed")
    assert page.evaluate(STATUS).startswith(f"Saved. Item #{settled} settled: “call”.")
    assert page.locator("#retry").is_visible()
    assert page.locator("#submit").is_disabled()
    resolved = "SELECT count(*) FROM escalations WHERE resolved_at IS NOT NULL"
    assert _count(site, resolved) == 1
    page.unroute("**/expert-tasks/next")
    page.locator("#retry").click()
    _wait_next(page, settled)
    assert page.locator("#retry").is_hidden() and page.locator("#submit").is_enabled()


def test_a_failed_expert_answer_is_kept(browser: Browser, site: Site) -> None:
    page = _expert_page(browser, site)
    shown = _item_id(page)
    page.route("**/resolve", lambda route: route.abort())
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    _wait_status(page, "Not saved")
    assert _item_id(page) == shown and _option(page, "navigate") == "true"
    assert page.locator("#submit").is_enabled() and page.locator("#retry").is_hidden()
    page.unroute("**/resolve")
    page.keyboard.press("Enter")
    _wait_status(page, f"Saved. Item #{shown} settled")
