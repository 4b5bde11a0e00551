"""Comments on the item under review and on the expert's item, in Chromium: the panel
lists the item's comments, Ctrl+Enter in its box sends the comment (never the verdict or
answer), and the comment comes back redacted by the privacy gate. Waits on what the page
shows (no fixed deadlines)."""

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
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

ROWS = [{"id": f"r{i}", "text": text} for i, text in enumerate(["ring Bo", "play jazz"])]
COMMENTS = "document.querySelectorAll('#comments li').length"


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


def _comment(page: Page) -> str:
    page.wait_for_function("!document.getElementById('comments-panel').hidden")
    page.wait_for_function("!document.getElementById('no-comments').hidden")
    page.locator("#comment-body").fill("call her on +44 20 7946 0958 first")
    page.locator("#comment-body").press("Control+Enter")
    page.wait_for_function(f"{COMMENTS} === 1")
    return page.locator("#comments li").first.inner_text()


def test_a_reviewer_comments_on_the_item_under_review(browser: Browser, site: Site) -> None:
    maya, rev = person(site, "maya"), person(site, "rev")
    config = reviewed(SCHEMAS["single_choice"])
    project = make_project(site.db, config=config, members={maya: "annotator", rev: "reviewer"})
    import_rows(site, project, ROWS)
    for _ in ROWS:
        label_next(site.db, maya, project, "call")
    page = sign_in(browser, site, rev)
    page.goto(f"{site.url}/projects/{project}/review")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    shown = _comment(page)
    assert "call her on" in shown and "7946" not in shown
    assert "personal data redacted" in shown
    assert _count(site, "SELECT count(*) FROM reviews") == 0  # Ctrl+Enter sent no verdict
    assert _count(site, "SELECT count(*) FROM item_comments") == 1


def test_an_expert_comments_on_the_escalated_item(browser: Browser, site: Site) -> None:
    maya, doc = person(site, "maya"), person(site, "doc")
    project = make_project(
        site.db, config=SCHEMAS["single_choice"], members={maya: "annotator", doc: "annotator"}
    )
    import_rows(site, project, ROWS)
    grant_level(site.db, doc, "general", 3)
    flag_next(site.db, maya, project, "unclear")
    page = sign_in(browser, site, doc)
    page.goto(f"{site.url}/projects/{project}/expert")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    shown = _comment(page)
    assert "7946" not in shown
    assert _count(site, "SELECT count(*) FROM escalations WHERE resolved_at IS NULL") == 1
