"""The bounding-box editor in Chromium (issue #16): boxes drawn with the mouse and made
from the keyboard alone, nudged, resized, relabelled, cycled with Tab and removed; each
test checks the answer the server stored, in pixels of the IMAGE (not of the screen:
the image is shown scaled to fit, or zoomed).

A site per test (a rerun starts from a fresh database); one Chromium for the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from tests.browser.harness import (
    MARKS,
    Site,
    add_image_item,
    chromium,
    person,
    png,
    serve,
    shot,
    sign_in,
    wait_item_change,
)
from tests.factories import make_project

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FloatRect, Page

pytestmark = MARKS

WIDTH, HEIGHT = 640, 360
BOXES = {"task": {"type": "boxes", "labels": [{"key": "car"}, {"key": "sign"}]}}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _start(browser: Browser, site: Site, name: str, items: int = 2) -> tuple[Page, int]:
    """A boxes project with ``items`` image items; its annotator's workspace on the first,
    with the image loaded and fitted."""
    someone = person(site, f"{name}-annotator")
    project = make_project(site.db, name=name, config=BOXES, members={someone: "annotator"})
    for i in range(items):
        add_image_item(
            site, project, png(WIDTH, HEIGHT, colour=(40 + 30 * i, 90, 160)), external_id=f"p{i}"
        )
    page = sign_in(browser, site, someone)
    page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    _wait_image(page)
    return page, project


def _wait_image(page: Page) -> None:
    page.wait_for_function(
        "() => { const f = document.querySelector('#item-media .media-viewer');"
        " const s = f && f.querySelector('.mv-stage');"
        " return f && f.dataset.loaded === 'true' && s.getBoundingClientRect().width > 0; }",
        polling=100,
    )


def _stage(page: Page) -> FloatRect:
    box = page.locator("#item-media .mv-stage").bounding_box()
    assert box is not None
    return box


def _screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where the image pixel (x, y) is on screen now."""
    stage = _stage(page)
    scale = stage["width"] / WIDTH
    return stage["x"] + x * scale, stage["y"] + y * scale


def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def _answers(site: Site, project: int) -> list[Any]:
    with site.db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT answer FROM labels WHERE project_id = :p ORDER BY id"), {"p": project}
        )
        return [json.loads(row[0]) for row in rows]


def _near(got: dict[str, Any], want: dict[str, Any], slack: float = 1.0) -> bool:
    """Equal labels, and coordinates within ``slack`` image pixels (the mouse lands on
    whole screen pixels, a screen pixel being less than an image pixel here)."""
    return got["label"] == want["label"] and all(
        abs(float(got[k]) - want[k]) <= slack for k in ("x", "y", "w", "h")
    )


def _listed(page: Page) -> list[str]:
    return page.locator("#box-list .box-item").all_inner_texts()


def _submit(page: Page) -> Any:
    """Enter submits; returns the answer the page sent (the tests then check what the
    server stored, so that a failure says which side got it wrong)."""
    before = str(page.locator("#item").get_attribute("data-item-id"))
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/labels")) as sent:
        page.keyboard.press("Enter")
    body = sent.value.post_data_json
    assert body is not None
    answer = body["answer"]
    wait_item_change(page, before, allow_empty=True)
    return answer


def test_a_box_drawn_with_the_mouse_is_nudged_and_relabelled_by_keyboard(
    browser: Browser, site: Site
) -> None:
    page, project = _start(browser, site, "draw")
    assert _stage(page)["width"] != WIDTH  # shown scaled: screen and image pixels differ
    _drag(page, _screen(page, 100, 50), _screen(page, 300, 200))
    assert len(_listed(page)) == 1
    assert page.locator("#box-list .box-item").first.get_attribute("aria-pressed") == "true"
    page.keyboard.press("2")  # the selected box becomes "sign"
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 3 px right
    page.keyboard.press("Shift+ArrowDown")  # 10 px down
    page.keyboard.press("ArrowUp")  # 1 px up
    assert _listed(page) == ["sign · 200 × 150 px"]
    shot(page, "workspace-boxes", full_page=False)
    sent = _submit(page)
    [answer] = _answers(site, project)
    assert answer == sent
    assert len(answer) == 1
    assert _near(answer[0], {"x": 103, "y": 59, "w": 200, "h": 150, "label": "sign"}), answer


def test_a_box_made_with_the_keyboard_alone(browser: Browser, site: Site) -> None:
    page, project = _start(browser, site, "keys")
    page.locator("#main").focus()
    page.keyboard.press("2")  # the next box will be "sign"
    page.keyboard.press("n")  # a box in the middle: a fifth of the shorter side (72 px)
    page.keyboard.press("Shift+ArrowLeft")  # 10 px left
    page.keyboard.press("ArrowDown")  # 1 px down
    for _ in range(8):
        page.keyboard.press("Shift+Alt+ArrowRight")  # 8 px wider
    page.keyboard.press("Shift+Alt+ArrowUp")  # 1 px shorter
    page.keyboard.press("n")  # a second one, then removed again
    page.keyboard.press("Delete")
    assert _listed(page) == ["sign · 80 × 71 px"]
    sent = _submit(page)
    assert sent == [{"x": 274, "y": 145, "w": 80, "h": 71, "label": "sign"}]
    assert _answers(site, project) == [sent]


def test_boxes_are_moved_resized_cycled_and_removed(browser: Browser, site: Site) -> None:
    page, project = _start(browser, site, "edit")
    _drag(page, _screen(page, 40, 40), _screen(page, 140, 120))  # car, 100 x 80
    page.keyboard.press("Escape")  # deselected: the key picks the next box's label
    page.keyboard.press("2")
    _drag(page, _screen(page, 400, 200), _screen(page, 500, 300))  # then sign: the label sticks
    _drag(page, _screen(page, 200, 100), _screen(page, 260, 160))  # and a third, sign
    # Move the first box by dragging its middle 50 px right, 20 down.
    _drag(page, _screen(page, 90, 80), _screen(page, 140, 100))
    # Resize it from its bottom-right corner handle (now at 190, 140) to (210, 150).
    handle = page.locator("#item-media .bx.selected .bx-se").bounding_box()
    assert handle is not None
    centre = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    _drag(page, centre, _screen(page, 210, 150))
    # Tab in the image cycles the boxes: the first, the second, then the third, removed.
    page.locator("#item-media .mv-viewport").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.locator("#box-list .box-item").nth(2).get_attribute("aria-pressed") == "true"
    page.keyboard.press("Backspace")
    assert len(_listed(page)) == 2
    sent = _submit(page)
    [answer] = _answers(site, project)
    assert answer == sent
    assert len(answer) == 2, answer
    assert _near(answer[0], {"x": 90, "y": 60, "w": 120, "h": 90, "label": "car"}, 1.5), answer
    assert _near(answer[1], {"x": 400, "y": 200, "w": 100, "h": 100, "label": "sign"}), answer


def test_zoomed_in_a_drawn_box_is_still_in_image_pixels(browser: Browser, site: Site) -> None:
    page, project = _start(browser, site, "zoom")
    before = _stage(page)["width"]
    page.locator("#main").focus()
    page.keyboard.type("+")
    page.keyboard.press("=")
    page.wait_for_function(
        "w => document.querySelector('#item-media .mv-stage').getBoundingClientRect().width"
        " > w * 1.5",
        arg=before,
    )
    # The middle of the image stays in sight when zooming with the keys.
    _drag(page, _screen(page, 300, 160), _screen(page, 340, 190))
    sent = _submit(page)
    [answer] = _answers(site, project)
    assert answer == sent
    assert len(answer) == 1
    assert _near(answer[0], {"x": 300, "y": 160, "w": 40, "h": 30, "label": "car"}), answer
