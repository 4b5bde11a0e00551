"""Audio on the work pages in Chromium (issue #20): a voice-cleared annotator plays a WAV
generated at test time (play/pause, seek, speed, the waveform drawn from the decoded
audio), post-edits the device transcript, and marks segments by keyboard; the review and
item pages show the player with the segments drawn; and an uncleared annotator's page
never carries a raw-audio URL (a voice is biometric): no player, the transcript instead.

Each test checks the answer the server stored. A site per test (a rerun starts from a
fresh database); one Chromium for the module.
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
    add_audio_item,
    chromium,
    person,
    serve,
    shot,
    sign_in,
    wait_item_change,
    wav,
)
from tests.factories import Person, grant_level, make_project
from tests.web.ui.scenarios import flag_next, label_next, pass_up, reviewed

from loupe.services.access import Actor

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

pytestmark = MARKS

TRANSCRIPT = "turn of the kitchen lights"
POST_EDIT = {
    "task": {"type": "free_text", "mode": "post_edit", "source_field": "transcript"},
    "text_field": "transcript",
    "media": ["audio"],
}
TRANSCRIBE = {
    "task": {"type": "free_text", "mode": "transcription"},
    "text_field": "transcript",
    "media": ["audio"],
}
SEGMENTS = {"task": {"type": "segments", "labels": [{"key": "speech"}, {"key": "noise"}]}}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _clear_voice(site: Site, someone: Person, project: int) -> None:
    """Grant ``someone`` the voice clearance for ``project`` (an admin's act, audited)."""
    from loupe.services.people.clearances import VOICE, grant_clearance

    with site.db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=someone.id, project_id=project, sensitivity=VOICE
        )


def _item(site: Site, project: int, seconds: float = 10.0, *, ref: str = "r1") -> int:
    item, _ = add_audio_item(
        site,
        project,
        wav(seconds),
        external_id=ref,
        data={"transcript": TRANSCRIPT},
        text_field="transcript",
    )
    return item


PLAYER = "#item-media .audio-player"


def _wait_player(page: Page, host: str = "#item-media") -> None:
    """Until the audio can play and its waveform is drawn (or either failed: then say so)."""
    page.wait_for_function(
        "host => { const f = document.querySelector(host + ' .audio-player');"
        " return f && f.dataset.waveform; }",
        arg=host,
        polling=100,
    )
    player = page.locator(f"{host} .audio-player")
    said = page.locator(f"{host} .ap-caption").inner_text()
    assert player.get_attribute("data-ready") == "true", said
    assert player.get_attribute("data-waveform") == "drawn", said


def _time(page: Page) -> float:
    return float(page.evaluate("document.querySelector('#item-media audio').currentTime"))


def _wait_time(page: Page, beyond: float) -> None:
    """Until the playhead is past ``beyond`` seconds (the audio is playing)."""
    page.wait_for_function(
        "t => document.querySelector('#item-media audio').currentTime > t",
        arg=beyond,
        polling=50,
    )


def _paused(page: Page) -> bool:
    return bool(page.evaluate("document.querySelector('#item-media audio').paused"))


def _answers(site: Site, project: int) -> list[Any]:
    with site.db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT answer FROM labels WHERE project_id = :p ORDER BY id"), {"p": project}
        )
        return [json.loads(row[0]) for row in rows]


def _open(browser: Browser, site: Site, someone: Person, path: str) -> Page:
    page = sign_in(browser, site, someone)
    page.goto(f"{site.url}{path}")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return page


def test_a_cleared_annotator_plays_the_audio_and_post_edits_the_transcript(
    browser: Browser, site: Site
) -> None:
    maya = person(site, "maya")
    project = make_project(site.db, name="requests", config=POST_EDIT, members={maya: "annotator"})
    _clear_voice(site, maya, project)
    _item(site, project)
    _item(site, project, ref="r2")
    page = _open(browser, site, maya, f"/projects/{project}/work")
    _wait_player(page)
    box = page.locator("#answer-text")
    assert box.input_value() == TRANSCRIPT  # the device transcript, to post-edit
    assert page.locator(".ap-time").inner_text().endswith("0:10.0")
    # The waveform is drawn from the decoded audio: the canvas has inked pixels.
    inked = page.evaluate(
        "() => { const c = document.querySelector('.ap-wave');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
    )
    assert inked > 1000, inked

    # The text box has the keyboard: Ctrl+Space plays while typing; Space types a space.
    assert page.evaluate("document.activeElement.id") == "answer-text"
    page.keyboard.press("Control+Space")
    _wait_time(page, 0.3)
    page.keyboard.press("End")
    page.keyboard.type(" now")
    page.keyboard.press("Alt+KeyP")  # pause, still typing
    page.wait_for_function("document.querySelector('#item-media audio').paused")
    assert box.input_value() == TRANSCRIPT + " now"

    # Out of the text box, the player's own keys: ] faster, → forward a second.
    page.keyboard.press("Escape")
    page.keyboard.press("]")
    page.keyboard.press("]")
    assert page.evaluate("document.querySelector('#item-media audio').playbackRate") == 1.5
    assert page.locator(".ap-rate").inner_text() == "1.5×"
    at = _time(page)
    page.keyboard.press("ArrowRight")
    assert abs(_time(page) - (at + 1)) < 0.05
    page.keyboard.press("Shift+ArrowLeft")  # 5 s back: the start
    assert _time(page) == 0
    page.keyboard.press("Space")
    _wait_time(page, 0.2)
    assert page.locator(PLAYER).get_attribute("data-playing") == "true"
    page.keyboard.press("Space")
    page.wait_for_function("document.querySelector('#item-media audio').paused")
    shot(page, "workspace-audio", full_page=False)

    # Fix the transcript and send it (Ctrl+Enter from the text box).
    box.fill("turn off the kitchen lights now")
    before = str(page.locator("#item").get_attribute("data-item-id"))
    page.keyboard.press("Control+Enter")
    wait_item_change(page, before)
    assert _answers(site, project) == ["turn off the kitchen lights now"]
    # The next item's player replaced the first, which no longer plays.
    _wait_player(page)
    assert page.locator("audio").count() == 1 and _paused(page)


def test_segments_are_marked_by_keyboard_while_playing(browser: Browser, site: Site) -> None:
    maya = person(site, "maya")
    project = make_project(site.db, name="segments", config=SEGMENTS, members={maya: "annotator"})
    _clear_voice(site, maya, project)
    _item(site, project)
    page = _open(browser, site, maya, f"/projects/{project}/work")
    _wait_player(page)
    page.locator("#main").focus()

    # While it plays, M marks a start and M again the end (label 1, "speech").
    page.keyboard.press("Space")
    _wait_time(page, 0.2)
    page.keyboard.press("m")
    _wait_time(page, _time(page) + 0.4)
    page.keyboard.press("m")
    page.keyboard.press("Space")
    page.wait_for_function("document.querySelector('#item-media audio').paused")
    [first] = page.locator("#segment-list .segment-item").all_inner_texts()
    assert first.startswith("speech · ")
    # Paused, by seeking: 2 s in, label 2 ("noise") for the next one, from 2 s to 7 s.
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")  # the segment just marked is selected: deselect it
    page.keyboard.press("2")
    page.keyboard.press("m")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("m")
    # And a third, removed again (Delete removes the selected one: the one just marked).
    page.keyboard.press("ArrowRight")
    page.keyboard.press("m")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("m")
    assert page.locator("#segment-list li").count() == 3
    page.keyboard.press("Delete")
    assert page.locator("#item-media .ap-edit .sg").count() == 2

    # Tab in the waveform selects the segments in turn; nudge the second one's ends.
    page.locator("#item-media .ap-frame").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert (
        page.locator("#segment-list .segment-item").nth(1).get_attribute("aria-pressed") == "true"
    )
    page.keyboard.press("Alt+ArrowRight")  # start 2.0 -> 2.1
    page.keyboard.press("Shift+Alt+ArrowLeft")  # end 7.0 -> 6.9
    assert page.locator("#item-media .sg.selected").count() == 1
    shot(page, "workspace-segments", full_page=False)

    before = str(page.locator("#item").get_attribute("data-item-id"))
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/labels")) as sent:
        page.keyboard.press("Enter")
    body = sent.value.post_data_json
    assert body is not None
    wait_item_change(page, before, allow_empty=True)
    [answer] = _answers(site, project)
    assert answer == body["answer"]
    assert len(answer) == 2, answer
    speech, noise = answer
    assert speech["label"] == "speech" and 0.2 <= speech["start"] < speech["end"] < 2.0, speech
    assert speech["end"] - speech["start"] >= 0.4
    assert noise == {"start": 2.1, "end": 6.9, "label": "noise"}


def test_the_review_and_item_pages_show_the_player_and_the_segments(
    browser: Browser, site: Site
) -> None:
    maya, bo, rev = person(site, "maya"), person(site, "bo"), person(site, "rev")
    boss = person(site, "boss")
    project = make_project(
        site.db,
        name="segments",
        overlap=2,
        config=reviewed(SEGMENTS, show_other_labels=True),
        members={maya: "annotator", bo: "annotator", rev: "reviewer", boss: "manager"},
    )
    for someone in (maya, bo, rev, boss):
        _clear_voice(site, someone, project)
    item = _item(site, project)
    label_next(site.db, maya, project, [{"start": 1.0, "end": 3.0, "label": "speech"}])
    label_next(
        site.db,
        bo,
        project,
        [{"start": 1.1, "end": 2.9, "label": "speech"}, {"start": 5, "end": 6, "label": "noise"}],
    )
    page = _open(browser, site, rev, f"/projects/{project}/review")
    _wait_player(page)
    # The answer under review is the editor's (solid), the other one dotted on the waveform.
    under_review = page.locator("#item-media .ap-edit .sg").count()
    assert under_review in (1, 2)
    assert page.locator("#segment-list li").count() == under_review
    assert page.locator("#item-media .ap-others .ap-seg").count() == 3 - under_review
    # Space plays on the review page too.
    page.locator("#main").focus()
    page.keyboard.press("Space")
    _wait_time(page, 0.2)
    page.keyboard.press("Space")
    # C corrects with the same editor: a segment from 8 s to 9 s, Enter sends it.
    page.keyboard.press("c")
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("m")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("m")
    with page.expect_response(lambda r: r.url.endswith("/reviews") and r.ok):
        page.keyboard.press("Enter")
    with site.db.engine.connect() as connection:
        corrected = connection.execute(text("SELECT corrected_answer FROM reviews")).scalar_one()
    corrected = json.loads(corrected) if isinstance(corrected, str) else corrected
    assert len(corrected) == under_review + 1
    assert {"start": 8.0, "end": 9.0, "label": "speech"} in corrected

    # The item page: the player, for a manager with the clearance.
    page.goto(f"{site.url}/projects/{project}/items/{item}")
    _wait_player(page, ".item-page-audio")
    assert page.locator(".item-page-audio audio").count() == 1


def test_the_adjudicator_hears_the_item_and_sees_the_crowds_segments(
    browser: Browser, site: Site
) -> None:
    ann, bo, doc = person(site, "ann"), person(site, "bo"), person(site, "doc")
    boss = person(site, "boss", "manager")
    project = make_project(
        site.db,
        name="segments",
        overlap=2,
        config=SEGMENTS,
        members={ann: "annotator", bo: "annotator", doc: "annotator", boss: "manager"},
    )
    for someone in (ann, bo, doc, boss):
        _clear_voice(site, someone, project)
    _item(site, project)
    grant_level(site.db, doc, "general", 3)
    crowd = [
        {"start": 1.0, "end": 2.5, "label": "speech"},
        {"start": 4, "end": 5, "label": "noise"},
    ]
    label_next(site.db, ann, project, crowd)
    flag_next(site.db, bo, project, "is that a voice or the radio?")
    pass_up(site.db, doc, project, "needs a second listen")
    page = _open(browser, site, boss, f"/projects/{project}/expert?stage=adjudicator")
    _wait_player(page)
    assert page.locator("#item-media .ap-others .ap-seg").count() == len(crowd)
    assert page.locator("#crowd-answers li").inner_text() == (
        "speech 1.00–2.50 s; noise 4.00–5.00 s"
    )
    page.locator("#main").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("m")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("m")
    with page.expect_request(lambda r: r.url.endswith("/resolve")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.post_data_json == {"answer": [{"start": 1.0, "end": 6.0, "label": "speech"}]}
    page.wait_for_function("document.getElementById('status').textContent.includes('settled')")


def test_an_uncleared_annotator_never_gets_a_raw_audio_url(browser: Browser, site: Site) -> None:
    maya = person(site, "maya")  # no voice clearance
    project = make_project(site.db, name="requests", config=TRANSCRIBE, members={maya: "annotator"})
    _item(site, project)
    page = sign_in(browser, site, maya)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    with page.expect_response(lambda r: r.url.endswith("/work/next")) as found:
        page.goto(f"{site.url}/projects/{project}/work")
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    # The payload withholds the audio: no url, no hash, restricted to voice clearance.
    [entry] = found.value.json()["task"]["media"]
    assert entry["kind"] == "audio" and entry["restricted"] == "voice", entry
    assert entry["url"] is None and entry["sha256"] is None, entry
    # The page says why, shows the transcript, and has no player.
    notice = page.locator("#item-media .audio-withheld")
    assert notice.inner_text() == (
        "Audio withheld: you need a voice clearance; work from the transcript."
    )
    assert page.locator("#item-text").inner_text() == TRANSCRIPT
    assert page.locator("audio").count() == 0
    # Nothing in the page, and nothing it asked for, names a raw-audio blob.
    assert "/api/v1/media/" not in page.content()
    assert not [r.url for r in requests if "/api/v1/media" in r.url]
    # The transcription is written and sent as usual.
    page.locator("#answer-text").fill("turn off the kitchen lights")
    before = str(page.locator("#item").get_attribute("data-item-id"))
    page.keyboard.press("Control+Enter")
    wait_item_change(page, before, allow_empty=True)
    assert _answers(site, project) == ["turn off the kitchen lights"]
    assert not [r.url for r in requests if "/api/v1/media" in r.url]
