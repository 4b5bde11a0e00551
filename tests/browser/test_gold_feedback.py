"""Gold feedback in the workspace, in Chromium: shown on the gold item it is about (its
text, the given and expected answers), after the answer, never inside the next item's
card and never after an ordinary item."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.browser.harness import MARKS, Site, chromium, import_rows, serve
from tests.browser.harness import person as _person
from tests.browser.harness import sign_in as _sign_in
from tests.factories import make_project

from loupe.services.access import Actor
from loupe.services.labelling import tasks
from loupe.services.quality import gold

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

GOLD_TEXT = "ring the dentist about Tuesday"


class _Draw(random.Random):
    """The task service's "is the next task gold?" draw, set by the test."""

    def __init__(self) -> None:
        super().__init__(0)
        self.value = 0.99  # ordinary

    def random(self) -> float:
        return self.value


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _answer(page: Page, key: str) -> str:
    """Answer the shown item with ``key``; wait for the next; return the answered id."""
    current = _item_id(page)
    page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "prev => { const id = document.getElementById('item').dataset.itemId;"
        " return id !== prev && id !== ''; }",
        arg=current,
    )
    return current


def test_gold_feedback_is_shown_on_the_gold_item_after_its_answer(
    browser: Browser, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    draw = _Draw()
    monkeypatch.setattr(tasks, "_rng", draw)  # the server runs in this process
    maya = _person(site, "maya")
    config = {
        "task": {
            "type": "single_choice",
            "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
        },
        "quality": {"gold_rate": 0.5, "gold_feedback": True},
    }
    project = make_project(site.db, config=config, members={maya: "annotator"})
    import_rows(site, project, [
        {"id": "a", "text": "play something calm"},
        {"id": "b", "text": "take me to the station"},
        {"id": "c", "text": "next song please"},
        {"id": "g", "text": GOLD_TEXT},
    ])  # fmt: skip
    with site.db.transaction() as session:
        gold.set_gold(session, Actor.system(), project, [("g", "call")])

    page = _sign_in(browser, site, maya)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    assert page.locator("#gold").is_hidden()

    draw.value = 0.0  # the gold item comes next
    _answer(page, "2")
    assert page.locator("#item-text").inner_text() == GOLD_TEXT
    assert page.locator("#gold").is_hidden()  # an ordinary answer: no feedback, no hint

    draw.value = 0.99
    gold_id = _answer(page, "2")  # music: not the expected answer
    feedback = page.locator("#gold")
    feedback.wait_for(state="visible")
    assert feedback.get_attribute("data-item-id") == gold_id
    assert page.locator("#gold-item").inner_text() == GOLD_TEXT
    assert page.locator("#gold-verdict").inner_text() == "not the expected answer"
    assert page.locator("#gold-given").inner_text() == "music"
    assert page.locator("#gold-expected").inner_text() == "call"
    # The next item's card is the next item's alone.
    card = page.locator("#item").inner_text()
    assert GOLD_TEXT not in card and "expected" not in card and "gold" not in card.lower()
    assert _item_id(page) != gold_id

    _answer(page, "3")  # an ordinary item again: the feedback goes with the next answer
    assert feedback.is_hidden()
