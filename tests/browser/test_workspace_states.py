"""The workspace's honest states in Chromium (issue #15): "Saving…" while a submit is in
flight with the answer locked, which step failed when one does, right-to-left items,
the answer bar in reach of a long document, blind pairwise comparisons, plurals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from tests.browser.harness import MARKS, Site, chromium, import_rows, serve
from tests.browser.harness import person as _person
from tests.browser.harness import sign_in as _sign_in
from tests.factories import make_project

from loupe.db.models import Label
from loupe.web.ui import workspace

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = MARKS

STATUS = "document.getElementById('status').textContent"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _open(browser: Browser, site: Site, rows: list[dict[str, Any]], **kw: Any) -> Page:
    context = kw.pop("context", {})
    maya = _person(site, "maya")
    project = make_project(site.db, members={maya: "annotator"}, **kw)
    import_rows(site, project, rows)
    page = _sign_in(browser, site, maya, **context)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return page


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _wait_status(page: Page, text: str) -> None:
    page.wait_for_function(f"t => {STATUS}.includes(t)", arg=text)


ROWS = [
    {"id": f"u{i}", "text": text} for i, text in enumerate(["call mum", "play jazz", "go home"])
]


def test_saving_shows_while_in_flight_and_the_answer_cannot_change(
    browser: Browser, site: Site
) -> None:
    page = _open(browser, site, ROWS)
    first = _item_id(page)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_status(page, "Saved “call”")
    assert _item_id(page) != first

    held: list[Route] = []
    page.route("**/labels", lambda route: held.append(route))
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    _wait_status(page, "Saving…")  # the previous "Saved" is gone
    page.wait_for_function("document.getElementById('answer-form').ariaBusy === 'true'")
    assert "Saved" not in page.evaluate(STATUS)
    # Changing the answer while the submit is pending is refused visibly, not dropped.
    assert page.locator('.option[data-key="navigate"]').is_disabled()
    assert page.locator("#submit").is_disabled()
    page.keyboard.press("3")
    assert page.locator('.option[data-key="music"]').get_attribute("aria-pressed") == "true"
    assert page.locator('.option[data-key="navigate"]').get_attribute("aria-pressed") == "false"
    while not held:  # the intercepted request reaches the test's handler (readiness)
        page.wait_for_timeout(10)
    held[0].continue_()
    _wait_status(page, "Saved “music”")
    assert page.locator('.option[data-key="call"]').is_enabled()


def test_a_failed_next_item_is_not_reported_as_a_failed_save(browser: Browser, site: Site) -> None:
    page = _open(browser, site, ROWS)
    assert page.locator("#retry").is_hidden()
    answered = _item_id(page)
    page.route("**/work/next", lambda route: route.abort())
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_status(page, "Loading the next item failed")
    status = page.evaluate(STATUS)
    assert status.startswith("Saved “call”.")  # the label was saved: say so
    assert page.locator("#retry").is_visible()
    assert page.locator("#submit").is_disabled()  # the saved item cannot be sent twice
    with site.db.transaction(readonly=True) as session:
        assert session.scalars(select(Label.item_id)).all() == [int(answered)]
    page.unroute("**/work/next")
    page.locator("#retry").click()
    page.wait_for_function(
        "prev => { const id = document.getElementById('item').dataset.itemId;"
        " return id !== prev && id !== ''; }",
        arg=answered,
    )
    assert page.locator("#retry").is_hidden()


def test_a_failed_save_keeps_the_answer_and_says_so(browser: Browser, site: Site) -> None:
    page = _open(browser, site, ROWS)
    shown = _item_id(page)
    page.route("**/labels", lambda route: route.abort())
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    _wait_status(page, "Not saved")
    assert _item_id(page) == shown
    assert page.locator('.option[data-key="music"]').get_attribute("aria-pressed") == "true"
    assert page.locator('.option[data-key="music"]').is_enabled()
    page.unroute("**/labels")
    page.keyboard.press("Enter")
    _wait_status(page, "Saved “music”")


def test_right_to_left_items_get_dir_and_lang(browser: Browser, site: Site) -> None:
    rows = [
        {"id": "ar", "text": "اتصل بأمي، من فضلك.", "language": "ar"},
        {"id": "he", "text": "תתקשר לאמא, בבקשה.", "language": "he-IL"},
        {"id": "en", "text": "call mum, please.", "language": "en"},
        {"id": "none", "text": "call dad, please."},
    ]
    page = _open(browser, site, rows)
    seen = {}
    for _ in rows:
        text = page.locator("#item-text")
        seen[text.inner_text()] = (
            text.get_attribute("dir"),
            text.get_attribute("lang"),
            page.evaluate("getComputedStyle(document.getElementById('item-text')).direction"),
        )
        current = _item_id(page)
        page.keyboard.press("s")
        page.wait_for_function(
            "prev => document.getElementById('item').dataset.itemId !== prev", arg=current
        )
    assert seen["اتصل بأمي، من فضلك."] == ("rtl", "ar", "rtl")
    assert seen["תתקשר לאמא, בבקשה."] == ("rtl", "he-IL", "rtl")
    assert seen["call mum, please."] == ("auto", "en", "ltr")
    assert seen["call dad, please."] == ("auto", None, "ltr")


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_answer_bar_stays_in_reach_of_a_long_document(
    browser: Browser, site: Site, viewport: tuple[int, int]
) -> None:
    long_text = " ".join(f"word{i}" for i in range(5000))
    width, height = viewport
    page = _open(
        browser,
        site,
        [{"id": "long", "text": long_text}],
        context={"viewport": {"width": width, "height": height}},
    )
    assert page.evaluate("document.documentElement.scrollHeight") > 3 * height
    for where in ("top", "middle"):
        if where == "middle":
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
        box = page.locator("#submit").bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, where
        option = page.locator('.option[data-key="call"]').bounding_box()
        assert option is not None and option["y"] + option["height"] <= height, where
    page.keyboard.press("1")
    page.locator("#submit").click()  # reachable: a real click, no scrolling to it
    _wait_status(page, "Saved “call”")


def test_multi_choice_says_label_in_the_singular(browser: Browser, site: Site) -> None:
    labels = [{"key": "a"}, {"key": "b"}]
    config = {"task": {"type": "multi_choice", "labels": labels, "min_choices": 1}}
    page = _open(browser, site, ROWS, config=config)
    page.keyboard.press("Enter")
    _wait_status(page, "Choose at least")
    assert page.evaluate(STATUS) == "Choose at least 1 label (keys 1–9, 0)."


def test_pairwise_hides_the_models_and_maps_a_swapped_answer_back(
    browser: Browser, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace.secrets, "randbelow", lambda n: 1)  # swap every item
    config = {"task": {"type": "pairwise", "prompt_field": "prompt"}}
    rows = [
        {
            "id": "p1",
            "text": "-",
            "prompt": "say hi",
            "a": "hello there",
            "b": "hi",
            "a_model": "gpt-secret",
            "b_model": "claude-secret",
        }
    ]
    answers: list[Any] = []
    page = _open(browser, site, rows, config=config)
    page.on(
        "request",
        lambda r: (
            answers.append(json.loads(r.post_data or "{}").get("answer"))
            if r.url.endswith("/labels")
            else None
        ),
    )
    html = page.content()
    assert "gpt-secret" not in html and "claude-secret" not in html
    # Shown swapped: the item's B on the left as "Output A".
    assert page.locator("#pair-a").inner_text() == "hi"
    assert page.locator("#pair-b").inner_text() == "hello there"
    page.keyboard.press("1")  # "A is better" as shown: the item's own B
    page.keyboard.press("Enter")
    _wait_status(page, "Saved “A is better”")
    assert answers == ["b"]
    with site.db.transaction(readonly=True) as session:
        assert session.scalars(select(Label.answer)).all() == ["b"]
