"""The workspace's keyboard in Chromium (issue #15): keys for labels past the tenth and
`/` to find any label by name; Enter on a focused label chooses it; spans selected word
by word with the arrow keys, and by tapping words on a touch screen; `A` takes the
model's suggestion. Each test checks the answers the server stored.

One server, one database and one Chromium for the module; each test has its own
project and its own signed-in person.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from tests.browser.harness import (
    MARKS,
    Site,
    chromium,
    import_rows,
    person,
    serve,
    sign_in,
    wait_item_change,
)
from tests.factories import make_project

from loupe.web.ui.editors import LABEL_LETTERS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

# Thirty labels: 1..9, 0 for the first ten, letters for the next eighteen, `/` for the rest.
TOPICS = [f"topic{i:02d}" for i in range(1, 29)] + ["walrus", "zebra"]
SPANS = {"task": {"type": "spans", "labels": [{"key": "LOC"}, {"key": "ORG"}]}}
SENTENCE = "🚆 Trains from Berlin to New York run daily."  # the emoji: 1 code point, 2 UTF-16 units


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # One site per test, so that a rerun (harness.MARKS) starts from a fresh database.
    with serve(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _start(
    browser: Browser,
    site: Site,
    name: str,
    config: dict[str, Any],
    rows: list[dict[str, Any]],
    **context: Any,
) -> tuple[Page, int]:
    """A project of its own with ``rows``, and its annotator's page on the first item."""
    someone = person(site, f"{name}-annotator")
    project = make_project(site.db, name=name, config=config, members={someone: "annotator"})
    import_rows(site, project, rows)
    page = sign_in(browser, site, someone, **context)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return page, project


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _wait_item_change(page: Page, previous: str) -> None:
    wait_item_change(page, previous, allow_empty=True)


def _answers(site: Site, project: int) -> list[Any]:
    with site.db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT answer FROM labels WHERE project_id = :p ORDER BY id"), {"p": project}
        )
        return [json.loads(row[0]) for row in rows]


def _pressed(page: Page) -> list[str]:
    return page.locator('.option[aria-pressed="true"] .option-key').all_inner_texts()


def _word_centre(page: Page, needle: str) -> tuple[float, float]:
    """Where ``needle`` is drawn in the item's text (it may sit inside a marked span)."""
    box = page.evaluate(
        """needle => {
          const walker = document.createTreeWalker(
            document.getElementById('item-text'), NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(needle);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + needle.length);
            const r = range.getBoundingClientRect();
            return {x: r.left + r.width / 2, y: r.top + r.height / 2};
          }
          return null;
        }""",
        needle,
    )
    assert box, needle
    return box["x"], box["y"]


def _selection(page: Page) -> str:
    return str(page.evaluate("window.getSelection().toString()"))


def test_labels_past_the_tenth_have_keys_and_any_label_can_be_found_by_name(
    browser: Browser, site: Site
) -> None:
    config = {"task": {"type": "single_choice", "labels": [{"key": k} for k in TOPICS]}}
    rows = [{"id": f"k{i}", "text": f"item {i}"} for i in range(4)]
    page, project = _start(browser, site, "thirty", config, rows)

    # The key each button shows is the key that chooses it.
    hints = page.locator(".option").evaluate_all(
        "bs => bs.map(b => b.querySelector('kbd')?.textContent ?? '')"
    )
    assert hints[:10] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]
    assert hints[10:28] == [c.upper() for c in LABEL_LETTERS]
    assert hints[10:12] == ["B", "D"]  # A, C (page keys) are skipped
    assert hints[28:] == ["", ""]  # past the letters: found with `/`
    page.keyboard.press("?")
    assert "topic11" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")

    for key, label in [("b", "topic11"), ("d", "topic12"), ("z", "topic28")]:
        current = _item_id(page)
        page.keyboard.press(key)
        assert _pressed(page) == [label]
        page.keyboard.press("Enter")
        _wait_item_change(page, current)

    # `/`, part of the name, Enter: the first match is chosen and the box closes.
    current = _item_id(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "label-find-input"
    page.keyboard.type("zeb")
    assert page.locator(".option:visible").count() == 1
    page.keyboard.press("Enter")
    assert _pressed(page) == ["zebra"]
    assert page.locator("#label-find").is_hidden()
    assert page.locator(".option:visible").count() == len(TOPICS)
    assert _item_id(page) == current  # Enter in the box chose; it did not submit
    page.keyboard.press("Enter")
    _wait_item_change(page, current)
    assert _answers(site, project) == ["topic11", "topic12", "topic28", "zebra"]


def test_enter_on_a_focused_label_chooses_it(browser: Browser, site: Site) -> None:
    config = {
        "task": {
            "type": "multi_choice",
            "labels": [{"key": "food"}, {"key": "travel"}, {"key": "work"}],
        }
    }
    rows = [{"id": "e1", "text": "book a table near the office"}, {"id": "e2", "text": "to Lyon"}]
    page, project = _start(browser, site, "enter", config, rows)

    first = _item_id(page)
    page.locator('.option[data-key="work"]').focus()  # as Tab would
    page.keyboard.press("Enter")
    assert _pressed(page) == ["work"]
    page.keyboard.press("Enter")  # toggles it off again
    assert _pressed(page) == []
    page.keyboard.press("Enter")
    page.locator('.option[data-key="food"]').focus()
    page.keyboard.press("Enter")
    assert _pressed(page) == ["food", "work"]
    assert _item_id(page) == first
    page.keyboard.press("Control+Enter")  # submits from anywhere
    _wait_item_change(page, first)

    # A label clicked with the mouse keeps no focus: Enter then submits, as before.
    second = _item_id(page)
    page.locator('.option[data-key="travel"]').click()
    page.keyboard.press("Enter")
    _wait_item_change(page, second)
    assert _answers(site, project) == [["food", "work"], ["travel"]]


def test_spans_selected_word_by_word_with_the_keyboard(browser: Browser, site: Site) -> None:
    rows = [{"id": "w1", "text": SENTENCE}]
    page, project = _start(browser, site, "spans-keys", SPANS, rows)
    first = _item_id(page)

    for _ in range(4):  # 🚆, Trains, from, Berlin
        page.keyboard.press("ArrowRight")
    assert _selection(page) == "Berlin"
    page.keyboard.press("1")  # LOC
    assert _selection(page) == ""
    page.keyboard.press("ArrowRight")  # on from the span just marked: "to"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert _selection(page) == "New York"
    page.keyboard.press("1")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert _selection(page) == "run daily"
    page.keyboard.press("Shift+ArrowLeft")  # the far end comes back a word
    assert _selection(page) == "run"
    page.keyboard.press("ArrowLeft")
    assert _selection(page) == "York"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("2")  # ORG "run": a slip
    assert page.locator("#span-list li").count() == 3
    page.keyboard.press("Backspace")  # removes it
    assert page.locator("#span-list").inner_text().count("LOC") == 2
    page.keyboard.press("Enter")
    _wait_item_change(page, first)

    berlin, new_york = SENTENCE.index("Berlin"), SENTENCE.index("New York")  # code points
    assert _answers(site, project) == [
        [
            {"start": berlin, "end": berlin + 6, "label": "LOC"},
            {"start": new_york, "end": new_york + 8, "label": "LOC"},
        ]
    ]


def test_spans_with_many_labels_tag_by_letter_and_by_name(browser: Browser, site: Site) -> None:
    config = {"task": {"type": "spans", "labels": [{"key": k} for k in TOPICS]}}
    page, project = _start(browser, site, "spans-many", config, [{"id": "m1", "text": SENTENCE}])
    first = _item_id(page)

    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("/")  # the box takes the focus; the words stay chosen
    page.keyboard.type("zeb")
    page.keyboard.press("Enter")
    assert "Marked zebra “Berlin”" in page.locator("#status").inner_text()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("/")
    page.keyboard.type("wal")
    page.keyboard.press("Escape")  # closes the box and gives the selection back
    assert page.locator("#label-find").is_hidden()
    assert _selection(page) == "to"
    page.keyboard.press("b")  # the 11th label
    page.keyboard.press("Enter")
    _wait_item_change(page, first)
    berlin, to = SENTENCE.index("Berlin"), SENTENCE.index(" to ") + 1
    assert _answers(site, project) == [
        [
            {"start": berlin, "end": berlin + 6, "label": "zebra"},
            {"start": to, "end": to + 2, "label": "topic11"},
        ]
    ]


def test_spans_selected_by_tapping_words_on_a_touch_screen(browser: Browser, site: Site) -> None:
    rows = [{"id": "t1", "text": SENTENCE}]
    page, project = _start(
        browser,
        site,
        "spans-touch",
        SPANS,
        rows,
        has_touch=True,
        viewport={"width": 820, "height": 1180},
    )
    first = _item_id(page)

    def tap_word(needle: str) -> None:
        page.touchscreen.tap(*_word_centre(page, needle))

    def tap_button(selector: str) -> None:
        box = page.locator(selector).bounding_box()
        assert box
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    tap_word("Berlin")
    assert _selection(page) == "Berlin"
    tap_button('.option[data-key="LOC"]')
    assert "Marked LOC “Berlin”" in page.locator("#status").inner_text()
    tap_word("New")
    tap_word("York")  # stretches the selection to it
    assert _selection(page) == "New York"
    tap_button('.option[data-key="LOC"]')
    tap_word("run")
    tap_word("run")  # a lone selected word tapped again is dropped
    assert _selection(page) == ""
    tap_word("Trains")
    tap_button('.option[data-key="ORG"]')
    assert page.locator("#span-list li").count() == 3
    tap_button("#span-list li:first-child button")  # remove ORG "Trains"
    tap_button("#submit")
    _wait_item_change(page, first)

    berlin, new_york = SENTENCE.index("Berlin"), SENTENCE.index("New York")
    assert _answers(site, project) == [
        [
            {"start": berlin, "end": berlin + 6, "label": "LOC"},
            {"start": new_york, "end": new_york + 8, "label": "LOC"},
        ]
    ]


def test_one_key_takes_the_models_suggestion(browser: Browser, site: Site) -> None:
    config = {
        "task": {
            "type": "single_choice",
            "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
        }
    }
    rows: list[dict[str, Any]] = [
        {
            "id": "p1",
            "text": "play something calm",
            "metadata": {"prediction": {"label": "music", "score": 0.8}},
        },
        {"id": "p2", "text": "ring Bo back"},
    ]
    page, project = _start(browser, site, "suggested", config, rows)

    first = _item_id(page)
    assert page.locator("#prediction").is_visible()
    assert _pressed(page) == []  # never chosen for you
    page.keyboard.press("a")
    assert _pressed(page) == ["music"]
    assert "Took the model's suggestion" in page.locator("#status").inner_text()
    page.keyboard.press("Enter")
    _wait_item_change(page, first)

    # No suggestion: A says so and chooses nothing.
    assert page.locator("#prediction").is_hidden()
    page.keyboard.press("a")
    assert _pressed(page) == []
    assert "No model suggestion" in page.locator("#status").inner_text()
    assert _answers(site, project) == ["music"]
