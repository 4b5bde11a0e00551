"""Images on the work pages in Chromium (issue #16): what an uncleared annotator's page
loads (only the gated image, never an original: its bytes are checked, face and card
number pixelated), zoom and pan, and the boxes drawn on the review and item pages.

A site per test (a rerun starts from a fresh database); one Chromium for the module.
"""

from __future__ import annotations

import hashlib
import io
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
    import_image_folder,
    person,
    png,
    serve,
    sign_in,
    wait_item_change,
)
from tests.factories import grant_level, make_project
from tests.web.ui.scenarios import flag_next, label_next, pass_up, reviewed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

pytestmark = MARKS

PHOTOS = {
    "task": {"type": "single_choice", "labels": [{"key": "cat"}, {"key": "dog"}]},
    "media": ["image"],
}
BOXES = {"task": {"type": "boxes", "labels": [{"key": "car"}, {"key": "sign"}]}}
MEDIA_KEYS = {
    "field", "kind", "url", "sha256", "mime", "width", "height", "regions",
    "duration_ms", "sample_rate", "restricted",
}  # fmt: skip


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path / "site") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _wait_image(page: Page, host: str = "#item-media") -> None:
    page.wait_for_function(
        "host => { const f = document.querySelector(host + ' .media-viewer');"
        " const s = f && f.querySelector('.mv-stage');"
        " return f && f.dataset.loaded === 'true' && s.getBoundingClientRect().width > 0; }",
        arg=host,
        polling=100,
    )


def _stage_width(page: Page) -> float:
    return float(page.evaluate("document.querySelector('.mv-stage').getBoundingClientRect().width"))


def _media_rows(site: Site, project: int) -> list[Any]:
    with site.db.engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT sha256, sealed_blob, regions, width, height FROM item_media "
                    "WHERE project_id = :p"
                ),
                {"p": project},
            )
        )


def _differs(a: Any, b: Any, box: Any) -> float:
    """Mean absolute difference of two RGB images inside ``box`` (x, y, w, h)."""
    import numpy as np

    x, y, w, h = (round(v) for v in (box.x, box.y, box.w, box.h))
    crop = (slice(y, y + h), slice(x, x + w))
    return float(np.abs(np.asarray(a, dtype=float)[crop] - np.asarray(b, dtype=float)[crop]).mean())


def test_an_uncleared_annotator_loads_only_the_gated_image(
    browser: Browser, site: Site, tmp_path: Path
) -> None:
    pytest.importorskip("cv2", reason="the image gate needs loupe[images] (OpenCV)")
    from PIL import Image

    from loupe.demo.scenes import draw_scene
    from loupe.privacy.image_gate import ocr_available

    if not ocr_available():  # else the import withholds the image (no_ocr): nothing to show
        pytest.skip(
            "the card number is found by OCR: needs Tesseract (apt-get install tesseract-ocr)"
        )

    # A drawn frame with a known face and a known card number (SIMULATED, loupe.demo).
    scene = draw_scene(3, kind="buy", face=True)
    original = scene.png()
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "buy.png").write_bytes(original)
    maya = person(site, "maya")  # an annotator with no clearance for originals
    project = make_project(site.db, name="photos", config=BOXES, members={maya: "annotator"})
    import_image_folder(site, project, folder)
    [(served, sealed, regions, width, height)] = _media_rows(site, project)
    regions = json.loads(regions) if isinstance(regions, str) else regions
    assert served != hashlib.sha256(original).hexdigest()
    assert {r["type"] for r in regions} >= {"FACE", "CREDIT_CARD"}

    page = sign_in(browser, site, maya)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    with (
        page.expect_response(lambda r: r.url.endswith("/work/next")) as found,
        page.expect_response(lambda r: "/api/v1/media/" in r.url) as image,
    ):
        page.goto(f"{site.url}/projects/{project}/work")
    _wait_image(page)

    # The task names only the served blob, with exactly the contract's keys.
    [entry] = found.value.json()["task"]["media"]
    assert set(entry) == MEDIA_KEYS
    assert entry["url"] == f"/api/v1/media/{served}" and entry["sha256"] == served
    # Every request the page made stays on the site, and the only media one is that url.
    urls = [r.url for r in requests]
    assert all(u.startswith(site.url) for u in urls), urls
    media = [u for u in urls if "/api/v1/media" in u or "original" in u or "sealed" in u]
    assert media and set(media) == {f"{site.url}/api/v1/media/{served}"}, media
    # Nothing in the page points at an original.
    dom = page.content()
    assert "/original" not in dom and "sealed" not in dom and (sealed or "no-sealed") not in dom
    assert page.locator("#item-media img").get_attribute("src") == f"/api/v1/media/{served}"

    # The bytes it loaded are the gated image: its hash, and the face and the card number
    # pixelated (far from the original inside their boxes).
    body = image.value.body()
    assert hashlib.sha256(body).hexdigest() == served
    shown = Image.open(io.BytesIO(body)).convert("RGB")
    assert shown.size == (width, height) == (scene.pixels.shape[1], scene.pixels.shape[0])
    for box in scene.pii:
        assert _differs(shown, scene.pixels, box) > 8, box
    # The gate's regions are drawn over the image and said in words.
    assert page.locator("#item-media .mv-region").count() == len(regions)
    caption = page.locator("#item-media .mv-caption").inner_text()
    assert "face" in caption and "credit card" in caption


def test_an_image_zooms_pans_and_fits_and_its_class_is_labelled(
    browser: Browser, site: Site
) -> None:
    maya = person(site, "maya")
    project = make_project(site.db, name="pets", config=PHOTOS, members={maya: "annotator"})
    add_image_item(site, project, png(800, 450), external_id="p1")
    add_image_item(site, project, png(800, 450, colour=(10, 10, 10)), external_id="p2")
    page = sign_in(browser, site, maya)
    page.goto(f"{site.url}/projects/{project}/work")
    _wait_image(page)
    fitted = _stage_width(page)
    frame = page.locator(".mv-viewport").bounding_box()
    assert frame is not None and abs(fitted - frame["width"]) <= 2  # fit to the width
    page.locator("#main").focus()
    page.keyboard.type("+")
    page.wait_for_function(
        "w => document.querySelector('.mv-stage').getBoundingClientRect().width > w * 1.2",
        arg=fitted,
    )
    assert page.locator(".mv-level").inner_text() != ""
    # The wheel zooms around the pointer.
    zoomed = _stage_width(page)
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + 100)
    page.mouse.wheel(0, -100)
    page.wait_for_function(
        "w => document.querySelector('.mv-stage').getBoundingClientRect().width > w * 1.2",
        arg=zoomed,
    )
    # Dragging pans the zoomed image.
    left = page.evaluate("document.querySelector('.mv-viewport').scrollLeft")
    start = (frame["x"] + frame["width"] / 2, frame["y"] + 100)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 120, start[1], steps=6)
    page.mouse.up()
    assert page.evaluate("document.querySelector('.mv-viewport').scrollLeft") > left + 60
    page.get_by_role("button", name="Fit to width").click()
    page.wait_for_function(
        "w => Math.abs(document.querySelector('.mv-stage').getBoundingClientRect().width - w) < 2",
        arg=fitted,
    )
    # The image is one part of an image-classification item: 2 picks "dog", Enter sends.
    before = str(page.locator("#item").get_attribute("data-item-id"))
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_item_change(page, before)
    with site.db.engine.connect() as connection:
        stored = connection.execute(text("SELECT answer FROM labels")).scalar_one()
    assert json.loads(stored) == "dog"


def test_the_review_page_draws_the_answer_under_review_and_the_others(
    browser: Browser, site: Site
) -> None:
    maya, bo, rev = person(site, "maya"), person(site, "bo"), person(site, "rev")
    project = make_project(
        site.db,
        name="streets",
        overlap=2,
        config=reviewed(BOXES, show_other_labels=True),
        members={maya: "annotator", bo: "annotator", rev: "reviewer"},
    )
    add_image_item(site, project, png(640, 360), external_id="s1")
    mine = [
        {"x": 10, "y": 20, "w": 100, "h": 60, "label": "car"},
        {"x": 300, "y": 100, "w": 50, "h": 80, "label": "sign"},
    ]
    label_next(site.db, maya, project, mine)
    label_next(site.db, bo, project, [{"x": 12, "y": 22, "w": 96, "h": 58, "label": "car"}])
    page = sign_in(browser, site, rev)
    page.goto(f"{site.url}/projects/{project}/review")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    _wait_image(page)
    # One answer is under review (solid, listed), the other drawn dotted on the same image.
    assert page.locator("#item-media .mv-edit .bx").count() in (1, 2)
    under_review = page.locator("#item-media .mv-edit .bx").count()
    assert page.locator("#box-list li").count() == under_review
    assert page.locator("#item-media .mv-others .mv-box").count() == 3 - under_review
    # C corrects on the same image: N adds a box, Enter sends the correction.
    page.keyboard.press("c")
    page.keyboard.press("n")
    with page.expect_response(lambda r: r.url.endswith("/reviews") and r.ok):
        page.keyboard.press("Enter")
    with site.db.engine.connect() as connection:
        corrected = connection.execute(text("SELECT corrected_answer FROM reviews")).scalar_one()
    corrected = json.loads(corrected) if isinstance(corrected, str) else corrected
    assert len(corrected) == under_review + 1
    assert {"x": 284, "y": 144, "w": 72, "h": 72, "label": "car"} in corrected


def test_the_adjudicator_sees_the_crowds_boxes_and_answers_with_boxes(
    browser: Browser, site: Site
) -> None:
    ann, bo, doc = person(site, "ann"), person(site, "bo"), person(site, "doc")
    boss = person(site, "boss", "manager")
    project = make_project(
        site.db,
        name="streets",
        overlap=2,
        config=BOXES,
        members={ann: "annotator", bo: "annotator", doc: "annotator", boss: "manager"},
    )
    add_image_item(site, project, png(640, 360), external_id="s1")
    grant_level(site.db, doc, "general", 3)
    crowd = [
        {"x": 10, "y": 20, "w": 100, "h": 60, "label": "car"},
        {"x": 300, "y": 100, "w": 50, "h": 80, "label": "sign"},
    ]
    label_next(site.db, ann, project, crowd)
    flag_next(site.db, bo, project, "is that a sign or a poster?")
    pass_up(site.db, doc, project, "needs the street's photos")
    page = sign_in(browser, site, boss)
    page.goto(f"{site.url}/projects/{project}/expert?stage=adjudicator")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    _wait_image(page)
    assert page.locator("#item-media .mv-others .mv-box").count() == len(crowd)
    assert page.locator("#crowd-answers li").inner_text().startswith("car 100×60 at (10, 20)")
    page.locator("#main").focus()
    page.keyboard.press("2")
    page.keyboard.press("n")
    with page.expect_request(lambda r: r.url.endswith("/resolve")) as sent:
        page.keyboard.press("Enter")
    body = sent.value.post_data_json
    assert body == {"answer": [{"x": 284, "y": 144, "w": 72, "h": 72, "label": "sign"}]}
    page.wait_for_function("document.getElementById('status').textContent.includes('settled')")


def test_the_item_page_shows_the_image_zoomable(browser: Browser, site: Site) -> None:
    boss = person(site, "boss", "annotator")
    project = make_project(site.db, name="items", config=BOXES, members={boss: "manager"})
    item, sha = add_image_item(
        site,
        project,
        png(320, 200),
        external_id="i1",
        regions=[{"type": "FACE", "x": 10, "y": 10, "width": 40, "height": 40}],
    )
    page = sign_in(browser, site, boss)
    page.goto(f"{site.url}/projects/{project}/items/{item}")
    _wait_image(page, ".item-page-media")
    assert page.locator(".item-page-media img").get_attribute("src") == f"/api/v1/media/{sha}"
    assert page.locator(".item-page-media .mv-region").count() == 1
    before = _stage_width(page)
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_function(
        "w => document.querySelector('.mv-stage').getBoundingClientRect().width > w",
        arg=before,
    )
